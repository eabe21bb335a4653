"""`docgen` subcommands: render, serve, worker, up, batch."""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from commands.batch import add_batch_commands, run_batch_command
from docgen.settings import Settings, SettingsError, load_settings


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="docgen", description="行业产教融合共同体文档服务")
    sub = parser.add_subparsers(dest="command", required=True)
    render = sub.add_parser("render", help="render a request's attachments to a folder (embedded)")
    render.add_argument("file", type=Path)
    render.add_argument("--out", type=Path, default=Path("out"))
    serve = sub.add_parser("serve", help="run the HTTP API")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    sub.add_parser("worker", help="run a worker with its own LibreOffice")
    add_batch_commands(sub)
    up = sub.add_parser("up", help="run everything in the foreground (development)")
    up.add_argument("--port", type=int, default=8000)
    up.add_argument("--state", type=Path, default=Path(".run"))
    args = parser.parse_args(argv)
    if args.command == "batch":  # a client of the API: no service settings needed
        return run_batch_command(args)

    try:
        settings = load_settings()
    except SettingsError as exc:
        print(exc, file=sys.stderr)
        return 2
    logging.basicConfig(
        level=settings.log_level, format="%(asctime)s %(levelname)s %(name)s %(message)s"
    )

    try:
        return _run(args, settings)
    except SettingsError as exc:
        print(exc, file=sys.stderr)
        return 2


def _run(args: argparse.Namespace, settings: Settings) -> int:
    if args.command == "render":
        from commands.render import render_file

        return render_file(settings, args.file, args.out)
    if args.command == "serve":
        import uvicorn

        from service.app import create_app

        uvicorn.run(create_app(settings), host=args.host, port=args.port, log_level="warning")
        return 0
    if args.command == "worker":
        from workers.main import run_worker

        run_worker(settings)
        return 0
    from commands.up import run_up

    return run_up(args.state, args.port)


if __name__ == "__main__":
    sys.exit(main())
