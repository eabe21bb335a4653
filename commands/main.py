"""`docgen` subcommands: render, serve, worker, up, batch, keys, jobs, fsck, reconcile."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from commands.batch import add_batch_commands, run_batch_command
from commands.keys import add_key_commands, run_key_command
from commands.maintenance import add_maintenance_commands
from docgen.logs import configure_logging
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
    add_key_commands(sub)
    jobs = sub.add_parser("jobs", help="a tenant's jobs, newest first (reads Redis)")
    jobs_verbs = jobs.add_subparsers(dest="verb", required=True)
    listing = jobs_verbs.add_parser("list")
    listing.add_argument("--tenant", required=True)
    listing.add_argument("--community")
    listing.add_argument("--year", type=int)
    listing.add_argument(
        "--status", choices=("queued", "running", "succeeded", "partial", "failed")
    )
    listing.add_argument("--limit", type=int, default=50)
    add_maintenance_commands(sub)
    up = sub.add_parser("up", help="run everything in the foreground (development)")
    up.add_argument("--port", type=int, default=8000)
    up.add_argument("--state", type=Path, default=Path(".run"))
    args = parser.parse_args(argv)
    if args.command == "batch":  # a client of the API: no service settings needed
        return run_batch_command(args)
    if args.command == "keys":  # edits the keys file only
        return run_key_command(args)

    try:
        settings = load_settings()
    except SettingsError as exc:
        print(exc, file=sys.stderr)
        return 2
    # The local commands (render, jobs, up) talk to a person; the services to a log collector.
    configure_logging(
        settings.log_level,
        settings.log_format if args.command in ("serve", "worker") else "text",
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
    if args.command == "jobs":
        return _list_jobs(args, settings)
    if args.command == "fsck":
        from commands.maintenance import run_fsck

        return run_fsck(args, settings)
    if args.command == "reconcile":
        from commands.maintenance import run_reconcile

        return run_reconcile(args, settings)
    if args.command == "worker":
        from workers.main import run_worker

        run_worker(settings)
        return 0
    from commands.up import run_up

    return run_up(args.state, args.port)


def _list_jobs(args: argparse.Namespace, settings: Settings) -> int:
    import redis

    from docgen.jobs import RedisJobStore, job_status
    from docgen.listing import JobQuery, list_jobs

    jobs = RedisJobStore(redis.Redis.from_url(settings.redis_url, socket_timeout=5))
    query = JobQuery(args.community, args.year, args.status, None, args.limit)
    page = list_jobs(jobs, args.tenant, query)
    print(f"{'job':<34} {'created':<20} {'community':<28} {'year':<5} status")
    for job, documents in page.jobs:
        created = job.created_at.strftime("%Y-%m-%d %H:%M:%S")
        print(
            f"{job.id:<34} {created:<20} {job.community_id:<28} {job.year:<5} "
            f"{job_status(documents)}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
