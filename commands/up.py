"""`docgen up`: the whole service in the foreground — Redis, SeaweedFS, a worker, the API."""

from __future__ import annotations

import os
import secrets
import signal
import sys
import threading
import urllib.request
from pathlib import Path

from docgen.devstack import start_redis, start_seaweedfs
from docgen.keys import DEV_KEYS_JSON
from docgen.processes import ManagedProcess, wait_until


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return bool(response.status == 200)
    except OSError:
        return False


def run_up(state_dir: Path, port: int) -> int:
    """Start everything; Ctrl-C stops what was started. State lives under `state_dir`."""
    started: list[ManagedProcess] = []
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    secret_file = state_dir / "s3-secret"
    state_dir.mkdir(parents=True, exist_ok=True)
    if not secret_file.exists():
        secret_file.write_text(secrets.token_hex(16), "utf-8")
    access_key, secret_key = "docgen-dev", secret_file.read_text("utf-8").strip()
    # The API and the worker sign and check the links emailed to people with one secret.
    link_file = state_dir / "link-secret"
    if not link_file.exists():
        link_file.write_text(secrets.token_hex(32), "utf-8")
    try:
        redis_process, redis_url = start_redis(state_dir / "redis")
        started.append(redis_process)
        s3_process, s3_endpoint = start_seaweedfs(state_dir / "s3", access_key, secret_key)
        started.append(s3_process)
        env = {
            **os.environ,
            "DOCGEN_REDIS_URL": redis_url,
            "DOCGEN_S3_ENDPOINT": s3_endpoint,
            "DOCGEN_S3_ACCESS_KEY": access_key,
            "DOCGEN_S3_SECRET_KEY": secret_key,
            "DOCGEN_PUBLIC_BASE_URL": os.environ.get(
                "DOCGEN_PUBLIC_BASE_URL", f"http://127.0.0.1:{port}"
            ),
            "DOCGEN_LINK_SECRET": os.environ.get(
                "DOCGEN_LINK_SECRET", link_file.read_text("utf-8").strip()
            ),
            # A person reads these logs (.run/*.log): text unless asked otherwise.
            "DOCGEN_LOG_FORMAT": os.environ.get("DOCGEN_LOG_FORMAT", "text"),
        }
        # Unless keys are configured, the three documented development keys (README).
        dev_keys = not (os.environ.get("DOCGEN_API_KEYS") or os.environ.get("DOCGEN_API_KEYS_FILE"))
        if dev_keys:
            env["DOCGEN_API_KEYS"] = DEV_KEYS_JSON
        docgen = [sys.executable, "-m", "commands.main"]
        worker = ManagedProcess(
            "worker", [*docgen, "worker"], env=env, log_path=state_dir / "worker.log"
        )
        started.append(worker)
        api = ManagedProcess(
            "api", [*docgen, "serve", "--port", str(port)], env=env, log_path=state_dir / "api.log"
        )
        started.append(api)
        wait_until(
            lambda: _answers(f"http://127.0.0.1:{port}/ready"),
            120,
            "service",
            alive=lambda: api.alive() and worker.alive(),
        )
        print(
            f"""
行业产教融合共同体文档服务已启动 / docgen is up
  API        http://127.0.0.1:{port}   (OpenAPI: /schema)
  Redis      {redis_url}
  S3         http://{s3_endpoint}  bucket docgen
  logs       {state_dir}/*.log
Ctrl-C 停止全部进程 / stops everything.""",
            flush=True,
        )
        if dev_keys:
            print(
                "  开发密钥 / development API keys (DOCGEN_API_KEYS or DOCGEN_API_KEYS_FILE "
                "overrides them):\n"
                "    dev-admin-key   role admin (batches, metrics, any tenant)\n"
                "    dev-client-key  tenant dev\n"
                "    dev-other-key   tenant other",
                flush=True,
            )
        while not stop.is_set():
            if not (api.alive() and worker.alive()):
                print("a process exited; see the logs above", file=sys.stderr)
                return 1
            stop.wait(1)
        return 0
    except (RuntimeError, TimeoutError) as exc:
        print(f"docgen up failed: {exc}", file=sys.stderr)
        for process in started:
            print(f"--- {process.name} ---\n{process.log_tail()}", file=sys.stderr)
        return 1
    finally:
        for process in reversed(started):
            process.stop()
