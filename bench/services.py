"""A whole service on this machine for batch measurements: Redis, SeaweedFS, the API, workers.

Workers can be pinned to cores (`taskset`) and given their own temp dirs, as independent worker
groups on separate hosts would be. Stored inputs are seeded straight into S3 (as the API stores
them), so a batch of hundreds of communities needs no hundreds of requests first.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
import msgspec

from docgen.devstack import start_redis, start_seaweedfs
from docgen.jobs import utcnow
from docgen.keys import ApiKey, hash_key, new_key
from docgen.objectstore import S3Store
from docgen.processes import ManagedProcess, free_port, wait_until
from docgen.schema import JobRequest
from docgen.settings import load_settings
from docgen.storage import LatestInput, input_key, put_latest_input

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "samples" / "community.example.json"


class Stack:
    def __init__(self) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="docgen-bench-"))
        self.redis, redis_url = start_redis(self.dir / "redis")
        key, secret = "bench", secrets.token_hex(16)
        self._admin, self._client = new_key(), new_key()
        self.admin = {"Authorization": f"Bearer {self._admin}"}
        self.client = {"Authorization": f"Bearer {self._client}"}
        self.s3, endpoint = start_seaweedfs(self.dir / "s3", key, secret)
        port = free_port()
        self.url = f"http://127.0.0.1:{port}"
        self.env = {
            **os.environ,
            "DOCGEN_REDIS_URL": redis_url,
            "DOCGEN_S3_ENDPOINT": endpoint,
            "DOCGEN_S3_ACCESS_KEY": key,
            "DOCGEN_S3_SECRET_KEY": secret,
            "DOCGEN_PUBLIC_BASE_URL": self.url,
            "DOCGEN_LINK_SECRET": secrets.token_hex(32),
            "DOCGEN_LOG_LEVEL": "WARNING",
            "DOCGEN_API_KEYS": msgspec.json.encode(
                [
                    ApiKey("bench-admin", "default", "admin", hash_key(self._admin)),
                    ApiKey("bench-client", "default", "client", hash_key(self._client)),
                ]
            ).decode(),
        }
        self.settings = load_settings(self.env)
        self.store = S3Store(self.settings.s3)
        self.store.ensure_bucket()
        self.api = ManagedProcess(
            "api",
            [sys.executable, "-m", "commands.main", "serve", "--port", str(port)],
            env=self.env,
            cwd=ROOT,
            log_path=self.dir / "api.log",
        )
        self.workers: list[ManagedProcess] = []

    def start_worker(self, name: str, *, cpus: str | None, pool_size: int) -> ManagedProcess:
        """A worker group: its own process, pool and temp dir, optionally pinned to `cpus`."""
        tmp = self.dir / f"{name}-tmp"
        tmp.mkdir(exist_ok=True)
        argv = [sys.executable, "-m", "commands.main", "worker"]
        if cpus is not None:
            argv = ["taskset", "-c", cpus, *argv]
        env = {**self.env, "TMPDIR": str(tmp), "DOCGEN_CONVERTER_POOL_SIZE": str(pool_size)}
        worker = ManagedProcess(name, argv, env=env, cwd=ROOT, log_path=self.dir / f"{name}.log")
        self.workers.append(worker)
        return worker

    def wait_ready(self, workers: int) -> None:
        def ready() -> bool:
            try:
                body = httpx.get(f"{self.url}/ready", timeout=2)
            except httpx.HTTPError:
                return False
            return body.status_code == 200

        wait_until(ready, 180, "api and workers", alive=self.api.alive)
        # /ready needs one worker; wait for every worker's heartbeat with a ready converter.
        import redis

        client = redis.Redis.from_url(self.env["DOCGEN_REDIS_URL"])

        def beats() -> int:
            keys = list(client.scan_iter("docgen:worker:*"))
            values = [json.loads(v) for v in client.mget(keys)] if keys else []
            return sum(1 for v in values if v["converters_ready"] > 0)

        wait_until(lambda: beats() >= workers, 180, f"{workers} workers")

    def stop_workers(self) -> None:
        for worker in self.workers:
            worker.stop()
        self.workers = []

    def seed(self, communities: int, prefix: str = "bench") -> list[str]:
        """Stored inputs of `communities` communities (附件1 only), each text a little different."""
        sample = json.loads(SAMPLE.read_text("utf-8"))
        ids = []
        for n in range(communities):
            body = json.loads(json.dumps(sample))
            body["community_id"] = f"{prefix}-{n:04d}"
            body["attachments"] = ["industry_analysis"]
            body["notify"] = None
            body["industry_analysis"]["trends"] += f"（第{n + 1}个共同体）"
            request = msgspec.convert(body, JobRequest)
            raw = msgspec.json.encode(request)
            key = input_key("default", f"{prefix}-{n:04d}-{len(raw)}")
            self.store.put(key, raw, "application/json")
            put_latest_input(
                self.store,
                "default",
                LatestInput(
                    request.community_id,
                    request.year,
                    "industry_analysis",
                    key,
                    "seed",
                    utcnow(),
                    request.community.recommending_province,
                ),
            )
            ids.append(request.community_id)
        return ids

    def run_batch(self, ids: list[str], *, force: bool = True) -> str:
        answer = httpx.post(
            f"{self.url}/v1/batches",
            json={"year": 2026, "filter": {"community_ids": ids}, "force": force},
            headers=self.admin,
            timeout=120,
        )
        answer.raise_for_status()
        return str(answer.json()["id"])

    def batch(self, batch_id: str) -> dict[str, Any]:
        answer = httpx.get(f"{self.url}/v1/batches/{batch_id}", headers=self.admin, timeout=30)
        return dict(answer.json())

    def wait_batch(self, batch_id: str, timeout_s: float = 3600) -> dict[str, Any]:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            batch = self.batch(batch_id)
            if batch["running"] == 0 and batch["queued"] == 0:
                return batch
            time.sleep(0.5)  # polling interval
        raise TimeoutError(batch_id)

    def interactive_latency(self, n: int) -> float:
        """Seconds from POST to a finished one-attachment job (附件1, new data each time)."""
        body = json.loads(SAMPLE.read_text("utf-8"))
        body["community_id"] = f"person-{n:04d}-{secrets.token_hex(3)}"
        body["attachments"] = ["industry_analysis"]
        body["notify"] = None
        started = time.monotonic()
        location = httpx.post(
            f"{self.url}/v1/jobs", json=body, headers=self.client, timeout=60
        ).headers["location"]
        while True:
            job = httpx.get(location, headers=self.client, timeout=30).json()
            if job["status"] in ("succeeded", "failed", "partial"):
                return time.monotonic() - started
            time.sleep(0.05)  # polling interval: 50 ms of resolution

    def stop(self) -> None:
        self.stop_workers()
        self.api.stop()
        self.s3.stop()
        self.redis.stop()
        shutil.rmtree(self.dir, ignore_errors=True)


def load_average() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())
