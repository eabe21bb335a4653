"""The worker's readiness probe (`python -m workers.probe`) against a real Redis, run as the
container runs it: a process that reads DOCGEN_REDIS_URL and answers with its exit code."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import uuid

import pytest
import redis

from docgen.heartbeat import Heartbeat, publish_heartbeat
from docgen.processes import free_port

pytestmark = pytest.mark.integration


def probe(redis_url: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DOCGEN_")}
    return subprocess.run(
        [sys.executable, "-m", "workers.probe"],
        env={**env, "DOCGEN_REDIS_URL": redis_url},
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )


def beat(client: redis.Redis, host: str, ready: int, total: int = 2) -> None:
    worker_id = f"{host}-{uuid.uuid4().hex[:8]}"
    publish_heartbeat(client, Heartbeat(worker_id, host, ready, total))


def test_a_worker_on_this_host_with_a_ready_converter_is_ready(
    redis_client: redis.Redis, redis_url: str
) -> None:
    beat(redis_client, socket.gethostname(), ready=1)
    assert probe(redis_url).returncode == 0


def test_a_worker_whose_converters_are_all_down_is_not_ready(
    redis_client: redis.Redis, redis_url: str
) -> None:
    beat(redis_client, socket.gethostname(), ready=0)
    result = probe(redis_url)
    assert result.returncode == 1
    assert "no ready converter" in result.stderr


def test_a_ready_worker_on_another_host_does_not_make_this_one_ready(
    redis_client: redis.Redis, redis_url: str
) -> None:
    beat(redis_client, "another-pod", ready=2)
    assert probe(redis_url).returncode == 1


def test_an_unreachable_redis_means_not_ready_with_the_reason_given() -> None:
    result = probe(f"redis://127.0.0.1:{free_port()}/0")
    assert result.returncode == 1
    assert result.stderr.startswith("worker.probe: ")
