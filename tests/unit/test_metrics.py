"""`/metrics`: the named series, who may read them, and that they move (in-memory sources; the
real path, with a worker converting, is in tests/e2e/test_service.py)."""

from __future__ import annotations

import re
from typing import Any

from litestar.testing import TestClient

from docgen.heartbeat import Heartbeat
from docgen.metrics import HttpMetrics, MemoryCounters, counter_families, pool_families, render
from docgen.pool import PoolStats
from tests.fakes import ApiFakes as Fakes
from tests.unit.conftest import ADMIN

NAMED = (
    "docgen_http_requests_total",
    "docgen_http_request_duration_seconds",
    "docgen_jobs_total",
    "docgen_documents_total",
    "docgen_queue_messages",
    "docgen_conversion_duration_seconds",
    "docgen_converter_restarts_total",
    "docgen_converter_timeouts_total",
    "docgen_notifications_total",
    "docgen_batches_total",
    "docgen_batch_documents_planned_total",
)


def sample(text: str, series: str) -> float:
    """The value of one series in a scrape (0 when absent)."""
    for line in text.splitlines():
        name, _, value = line.rpartition(" ")
        if name == series:
            return float(value)
    return 0.0


def test_metrics_need_an_admin_key(client: TestClient[Any]) -> None:
    assert client.get("/metrics").status_code == 403
    assert client.get("/metrics", headers={"Authorization": ""}).status_code == 401
    answer = client.get("/metrics", headers=ADMIN)
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/plain; version=0.0.4")


def test_every_named_series_is_exposed_with_help_and_type(client: TestClient[Any]) -> None:
    text = client.get("/metrics", headers=ADMIN).text
    for name in NAMED:
        assert f"# TYPE {name} " in text, name
        assert f"# HELP {name} " in text, name
    # Every sample line is `series value`: what Prometheus' parser expects.
    for line in text.splitlines():
        if not line.startswith("#"):
            assert re.fullmatch(r'[a-z_]+(\{[a-z_]+="[^"]*"(,[a-z_]+="[^"]*")*\})? \S+', line), line


def test_a_submitted_job_moves_the_job_queue_and_request_series(
    client: TestClient[Any], fakes: Fakes, sample_bytes: bytes
) -> None:
    before = client.get("/metrics", headers=ADMIN).text
    assert client.post("/v1/jobs", content=sample_bytes).status_code == 202
    client.get("/v1/jobs/nope")
    after = client.get("/metrics", headers=ADMIN).text

    accepted = 'docgen_jobs_total{status="accepted"}'
    assert sample(after, accepted) == sample(before, accepted) + 1
    assert sample(after, 'docgen_queue_messages{queue="render",state="waiting"}') == 5
    # By route template, not by path: one series for every job id.
    created = 'docgen_http_requests_total{method="POST",route="/v1/jobs",status="202"}'
    assert sample(after, created) == 1
    missing = 'docgen_http_requests_total{method="GET",route="/v1/jobs/{job_id}",status="404"}'
    assert sample(after, missing) == 1
    scraped = 'docgen_http_requests_total{method="GET",route="/metrics",status="200"}'
    assert sample(after, scraped) == 1  # the scrape before this one
    count = 'docgen_http_request_duration_seconds_count{method="POST",route="/v1/jobs"}'
    assert sample(after, count) == 1


def test_a_started_batch_counts_its_planned_documents(
    client: TestClient[Any], fakes: Fakes, sample_bytes: bytes
) -> None:
    assert client.post("/v1/jobs", content=sample_bytes).status_code == 202
    assert (
        client.post("/v1/batches", json={"year": 2026, "tenant": "dev"}, headers=ADMIN).status_code
        == 202
    )
    text = client.get("/metrics", headers=ADMIN).text
    assert sample(text, 'docgen_batches_total{state="started"}') == 1
    assert sample(text, "docgen_batch_documents_planned_total") == 5


def test_counters_show_zero_before_anything_happened_and_add_up() -> None:
    counters = MemoryCounters()
    text = render(counter_families(counters.read()))
    assert sample(text, 'docgen_documents_total{outcome="failed",queue="render"}') == 0
    assert 'docgen_documents_total{outcome="failed",queue="render"} 0' in text
    counters.add("docgen_documents_total", {"queue": "render", "outcome": "failed"})
    counters.add("docgen_documents_total", {"outcome": "failed", "queue": "render"}, 2)
    text = render(counter_families(counters.read()))
    assert sample(text, 'docgen_documents_total{outcome="failed",queue="render"}') == 3


def test_the_workers_pool_statistics_are_summed() -> None:
    one, two = PoolStats(restarts=1, timeouts=1), PoolStats(restarts=2)
    one.observe(0.4)
    two.observe(3.0)
    beats = [
        Heartbeat("w1", "h1", 2, 2, one),
        Heartbeat("w2", "h2", 1, 2, two),
        Heartbeat("w3", "h3", 1, 1),  # converters elsewhere: no pool of its own
    ]
    text = render(pool_families(beats))
    assert sample(text, "docgen_workers") == 3
    assert sample(text, "docgen_converters_ready") == 4
    assert sample(text, "docgen_converter_restarts_total") == 3
    assert sample(text, "docgen_converter_timeouts_total") == 1
    assert sample(text, "docgen_conversion_duration_seconds_count") == 2
    assert sample(text, "docgen_conversion_duration_seconds_sum") == 3.4
    assert sample(text, 'docgen_conversion_duration_seconds_bucket{le="0.5"}') == 1
    assert sample(text, 'docgen_conversion_duration_seconds_bucket{le="5"}') == 2
    assert sample(text, 'docgen_conversion_duration_seconds_bucket{le="+Inf"}') == 2


def test_request_latencies_fall_into_cumulative_buckets() -> None:
    http = HttpMetrics()
    http.observe("/r", "GET", 200, 0.003)
    http.observe("/r", "GET", 500, 0.3)
    text = render(http.families())
    bucket = 'docgen_http_request_duration_seconds_bucket{le="%s",method="GET",route="/r"}'
    assert sample(text, bucket % "0.005") == 1
    assert sample(text, bucket % "0.5") == 2
    assert sample(text, bucket % "+Inf") == 2
    assert sample(text, 'docgen_http_requests_total{method="GET",route="/r",status="500"}') == 1
