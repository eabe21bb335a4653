"""Redis killed under the API: `503` problem+json with `Retry-After` on every route that needs
it, never `500`; `/health` stays up, `/ready` says down; after a restart (AOF) all works again."""

from __future__ import annotations

import signal
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from litestar.testing import TestClient

from docgen.devstack import start_redis
from docgen.keys import DEV_KEYS_JSON
from docgen.processes import port_open, wait_until
from docgen.settings import load_settings
from service.app import create_app
from tests.conftest import S3Server

pytestmark = pytest.mark.integration

CLIENT = {"Authorization": "Bearer dev-client-key"}
ADMIN = {"X-API-Key": "dev-admin-key"}


class Redis:
    """A redis-server of this test's own, killed and restarted on one port and AOF folder."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.process, self.url = start_redis(workdir)
        self.port = int(self.url.rsplit(":", 1)[1].split("/")[0])

    def kill(self) -> None:
        self.process.signal_group(signal.SIGKILL)  # a crash, not a shutdown: no final save
        self.process.stop()
        wait_until(lambda: not port_open(self.port), 10, "redis to go")

    def restart(self) -> None:
        self.process, _ = start_redis(self.workdir, self.port)


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[Redis]:
    server = Redis(tmp_path / "redis")
    yield server
    server.process.stop()


@pytest.fixture
def api(redis_server: Redis, s3_server: S3Server) -> Iterator[TestClient[Any]]:
    env = {
        "DOCGEN_REDIS_URL": redis_server.url,
        "DOCGEN_S3_ENDPOINT": s3_server.endpoint,
        "DOCGEN_S3_ACCESS_KEY": s3_server.access_key,
        "DOCGEN_S3_SECRET_KEY": s3_server.secret_key,
        "DOCGEN_S3_BUCKET": "outage-it",
        "DOCGEN_LINK_SECRET": "outage test link secret, thirty-two characters or more",
        "DOCGEN_API_KEYS": DEV_KEYS_JSON,
    }
    settings = load_settings(env)
    from docgen.objectstore import S3Store

    S3Store(settings.s3).ensure_bucket()  # the workers' job, and there is no worker here
    with TestClient(create_app(settings)) as client:
        yield client


def assert_unavailable(response: Any) -> None:
    assert response.status_code == 503, (response.request.url, response.text)
    assert response.headers["content-type"].startswith("application/problem+json")
    assert int(response.headers["retry-after"]) > 0
    problem = response.json()
    assert problem["status"] == 503
    assert [e["code"] for e in problem["errors"]] == ["queue.unavailable"]
    assert problem["errors"][0]["message"] and problem["errors"][0]["message_en"]


def test_while_redis_is_down_the_api_answers_503_and_recovers_when_it_returns(
    api: TestClient[Any], redis_server: Redis, sample_bytes: bytes
) -> None:
    created = api.post("/v1/jobs", content=sample_bytes, headers=CLIENT)
    assert created.status_code == 202, created.text
    job_id = created.json()["id"]
    community = created.json()["community_id"]

    redis_server.kill()
    assert api.get("/health").status_code == 200
    ready = api.get("/ready")
    assert ready.status_code == 503 and ready.json()["checks"]["redis"]["status"] == "down"
    for method, path, headers in (
        ("POST", "/v1/jobs", CLIENT),
        ("POST", "/v1/jobs", {**CLIENT, "Idempotency-Key": "outage-1"}),
        ("GET", f"/v1/jobs/{job_id}", CLIENT),
        ("GET", f"/v1/jobs/{job_id}/indicators", CLIENT),
        ("GET", f"/v1/jobs/{job_id}/documents/application/pdf", CLIENT),
        ("GET", f"/v1/jobs/{job_id}/bundle/pdf", CLIENT),
        ("GET", "/v1/jobs", CLIENT),
        ("GET", f"/v1/communities/{community}/documents?year=2026", CLIENT),
        ("GET", "/v1/batches/b1", ADMIN),
        ("POST", "/v1/batches", ADMIN),
        ("GET", "/metrics", ADMIN),
    ):
        body = sample_bytes if path == "/v1/jobs" else b'{"year": 2026, "reason": "x"}'
        response = api.request(
            method, path, headers=headers, content=body if method == "POST" else None
        )
        if path.startswith("/v1/communities"):  # reads S3 only: still served
            assert response.status_code in (200, 404), response.text
            continue
        assert_unavailable(response)

    redis_server.restart()
    wait_until(lambda: api.get("/ready").json()["checks"]["redis"]["status"] == "ok", 30, "ready")
    # AOF everysec: the job accepted before the crash is still there.
    assert api.get(f"/v1/jobs/{job_id}", headers=CLIENT).status_code == 200
    assert api.post("/v1/jobs", content=sample_bytes, headers=CLIENT).status_code == 202


def test_a_hung_redis_gives_a_503_within_the_client_timeout_not_a_request_that_never_ends(
    api: TestClient[Any], redis_server: Redis, sample_bytes: bytes
) -> None:
    redis_server.process.signal_group(signal.SIGSTOP)  # accepts connections, answers nothing
    try:
        started = time.monotonic()
        assert_unavailable(api.post("/v1/jobs", content=sample_bytes, headers=CLIENT))
        assert time.monotonic() - started < 15  # the API's Redis socket timeout is 5 s
    finally:
        redis_server.process.signal_group(signal.SIGCONT)
    assert api.post("/v1/jobs", content=sample_bytes, headers=CLIENT).status_code == 202
