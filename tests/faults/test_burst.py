"""Scenario 7: a burst of 1,000 single-attachment job requests (附件1) from one platform in a few
seconds, 64 at a time.

Limits chosen for the test (docgen/limits.py): `DOCGEN_RATE_LIMIT_PER_MINUTE=1000`, so that the
rate does not refuse the burst by itself, and `DOCGEN_MAX_OPEN_JOBS=300`, the cap that does:
about 300 are accepted, the rest refused `429` `jobs.too_many_open` with `Retry-After`. Every
answer is `202` or `429`; every accepted job finishes; no refused request leaves a job behind
(the tenant's job list holds exactly the accepted ones). Prints the accept latency p50/p99 and
the time to drain.
"""

from __future__ import annotations

import statistics
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import S3Server
from tests.faults.conftest import Outcome, OwnRedis, job_body, report, running
from tests.stack import CLIENT, service_env

pytestmark = [pytest.mark.faults, pytest.mark.slow]

REQUESTS = 1_000
CONCURRENCY = 64
MAX_OPEN = 300


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def test_a_burst_of_1000_requests_is_accepted_or_refused_429_and_nothing_is_lost(
    own_redis: OwnRedis, s3_server: S3Server, sample_dict: dict[str, Any], tmp_path: Path
) -> None:
    env = service_env(
        own_redis.url,
        s3_server,
        "faults-burst",
        rate_limit_per_minute=str(REQUESTS),
        max_open_jobs=str(MAX_OPEN),
    )
    with running(env, tmp_path / "logs") as service:
        bodies = [
            job_body(sample_dict, f"faults-burst-{n:04d}", ["industry_analysis"])
            for n in range(REQUESTS)
        ]
        limits = httpx.Limits(max_connections=CONCURRENCY)
        with httpx.Client(headers=CLIENT, timeout=120, limits=limits) as client:

            def post(body: dict[str, Any]) -> tuple[int, float, str, str]:
                started = time.monotonic()
                answer = client.post(f"{service.url}/v1/jobs", json=body)
                took = time.monotonic() - started
                code = "" if answer.status_code == 202 else answer.json()["errors"][0]["code"]
                where = answer.headers.get("location", answer.headers.get("retry-after", ""))
                return answer.status_code, took, code, where

            burst_started = time.monotonic()
            with ThreadPoolExecutor(CONCURRENCY) as pool:
                answers = list(pool.map(post, bodies))
            burst_s = time.monotonic() - burst_started

        statuses = {status for status, *_ in answers}
        assert statuses <= {202, 429}, {s: sum(a[0] == s for a in answers) for s in statuses}
        accepted = [where for status, _, _, where in answers if status == 202]
        refused = [(code, where) for status, _, code, where in answers if status == 429]
        assert all(code == "jobs.too_many_open" and where for code, where in refused), refused[:5]
        assert accepted, "the cap admits the first jobs"

        outcome = Outcome(service, accepted, timeout_s=1800)
        drain_s = time.monotonic() - burst_started
        assert outcome.statuses() == {"succeeded": len(accepted)}, outcome.statuses()

        # None lost, none invented: the tenant's job list is exactly the accepted jobs.
        listed: set[str] = set()
        url: str | None = f"{service.url}/v1/jobs?limit=200"
        while url:
            page = httpx.get(url, headers=CLIENT, timeout=30).json()
            listed |= {job["id"] for job in page["jobs"]}
            url = page.get("links", {}).get("next")
        assert listed == {loc.rsplit("/", 1)[1] for loc in accepted}

        latencies = [took * 1000 for _, took, _, _ in answers]
        fsck_report = outcome.check()
        report(
            "7 burst of 1,000",
            requests=REQUESTS,
            concurrency=CONCURRENCY,
            accepted_202=len(accepted),
            refused_429=len(refused),
            burst_s=f"{burst_s:.1f}",
            requests_per_s=f"{REQUESTS / burst_s:.0f}",
            latency_ms_p50=f"{statistics.median(latencies):.0f}",
            latency_ms_p99=f"{percentile(latencies, 0.99):.0f}",
            latency_ms_max=f"{max(latencies):.0f}",
            drain_s=f"{drain_s:.1f}",
            docs_per_s=f"{len(accepted) / drain_s:.2f}",
            fsck=fsck_report.get("checked"),
        )
