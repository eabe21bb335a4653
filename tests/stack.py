"""The service as real processes for end-to-end and fault tests: the API and a worker.

Both share the tests' Redis and SeaweedFS (fixtures in tests/conftest.py); each `Service` has its
own bucket, port and log folder. A worker can be stopped, killed and replaced (other templates,
another name) while the API keeps running.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from docgen.keys import DEV_KEYS_JSON
from docgen.objectstore import S3Store
from docgen.processes import ManagedProcess, free_port, wait_until
from docgen.settings import load_settings
from tests.conftest import S3Server

ROOT = Path(__file__).resolve().parents[1]
DOCGEN = [sys.executable, "-m", "commands.main"]
CLIENT = {"Authorization": "Bearer dev-client-key"}
ADMIN = {"X-API-Key": "dev-admin-key"}
FINISHED = ("succeeded", "partial", "failed")


def service_env(
    redis_url: str, s3_server: S3Server, bucket: str, **settings: str
) -> dict[str, str]:
    """The environment of one service on a free port; `settings` adds or overrides DOCGEN_*."""
    port = free_port()
    return {
        **os.environ,
        "DOCGEN_REDIS_URL": redis_url,
        "DOCGEN_S3_ENDPOINT": s3_server.endpoint,
        "DOCGEN_S3_ACCESS_KEY": s3_server.access_key,
        "DOCGEN_S3_SECRET_KEY": s3_server.secret_key,
        "DOCGEN_S3_BUCKET": bucket,
        "DOCGEN_PUBLIC_BASE_URL": f"http://127.0.0.1:{port}",
        "DOCGEN_LINK_SECRET": f"{bucket} link secret, at least thirty-two characters",
        "DOCGEN_WEBHOOK_ALLOW_HTTP": "true",
        "DOCGEN_WEBHOOK_ALLOW_PRIVATE": "true",
        "DOCGEN_API_KEYS": DEV_KEYS_JSON,
        **{f"DOCGEN_{name.upper()}": value for name, value in settings.items()},
    }


def smtp_to(port: int) -> dict[str, str]:
    """`service_env` settings that send mail, unencrypted, to a server on loopback."""
    return {
        "smtp_host": "127.0.0.1",
        "smtp_port": str(port),
        "smtp_security": "none",
        "smtp_from": "docgen@e2e.example.cn",
    }


class Service:
    """The API and the current worker; `stop()` stops both."""

    def __init__(self, env: dict[str, str], logs: Path) -> None:
        self.env, self.logs = env, logs
        self.url = env["DOCGEN_PUBLIC_BASE_URL"]
        port = self.url.rsplit(":", 1)[1]
        self.api = ManagedProcess(
            "api", [*DOCGEN, "serve", "--port", port], env=env, cwd=ROOT, log_path=logs / "api.log"
        )
        self.worker: ManagedProcess | None = None
        try:
            self.start_worker()
        except BaseException:
            self.api.stop()
            raise

    def start_worker(self, templates: Path | None = None, name: str = "worker") -> ManagedProcess:
        """Start a worker (with other templates if given) and wait until /ready says so."""
        env = {**self.env, **({"DOCGEN_TEMPLATES_DIR": str(templates)} if templates else {})}
        worker = ManagedProcess(
            name, [*DOCGEN, "worker"], env=env, cwd=ROOT, log_path=self.logs / f"{name}.log"
        )
        self.worker = worker
        try:
            wait_until(
                self.ready, 120, "api and worker", alive=lambda: self.api.alive() and worker.alive()
            )
        except (TimeoutError, RuntimeError) as exc:
            worker.stop()
            pytest.fail(
                f"{exc}\n--- api ---\n{self.api.log_tail()}\n--- {name} ---\n{worker.log_tail()}"
            )
        return worker

    def store(self) -> S3Store:
        """The service's bucket, for looking at what it stored."""
        return S3Store(load_settings(self.env).s3)

    def ready(self) -> bool:
        try:
            return httpx.get(f"{self.url}/ready", timeout=2).status_code == 200
        except httpx.HTTPError:
            return False

    def kill_worker(self) -> None:
        """SIGKILL the worker with its LibreOffice instances, as when its container dies.

        Each instance leads a process group of its own (docgen.convert.UnoserverProcess):
        killing only the worker's group would leave them running, orphaned."""
        assert self.worker is not None
        groups = office_groups(self.worker.pid)
        self.worker.signal_group(signal.SIGKILL)
        for group in groups:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(group, signal.SIGKILL)
        self.worker.stop()  # reaps it and closes its log

    def stop(self) -> None:
        if self.worker:
            self.worker.stop()
        self.api.stop()


def _stat(pid: int) -> list[str]:
    """Fields of /proc/PID/stat after the command name (state, ppid, pgrp, session, …)."""
    stat = Path(f"/proc/{pid}/stat").read_text()
    return stat[stat.rindex(")") + 2 :].split()


def office_groups(worker_pid: int) -> list[int]:
    """Process groups of a worker's LibreOffice instances: each unoserver is a child of the
    worker leading its own group (docgen.convert.UnoserverProcess), soffice.bin inside it."""
    groups = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        with contextlib.suppress(OSError, IndexError, ValueError):
            fields = _stat(int(entry))
            if int(fields[1]) == worker_pid and int(fields[2]) == int(entry):
                groups.append(int(entry))
    return groups


def wait_for_job(
    location: str, timeout_s: float = 120, headers: dict[str, str] = CLIENT
) -> dict[str, Any]:
    """Follow a job until it finishes; its body then.

    Each request waits on the server until a document changes (`?wait=`), as a client should:
    no polling interval here.
    """
    deadline = time.monotonic() + timeout_s
    while (left := deadline - time.monotonic()) > 0:
        job: dict[str, Any] = httpx.get(
            location, params={"wait": min(left, 10)}, headers=headers, timeout=20
        ).json()
        if job["status"] in FINISHED:
            return job
    raise TimeoutError(f"job {location} still {job['status']} after {timeout_s} s")
