"""Scenario 4: the S3 server stopped (SIGKILL) for 20 s in the middle of a batch of jobs, then
started again on the same port with the same data.

Documents that meet the outage fail their attempt with `storage.unavailable` (retryable) and are
retried with backoff (1 s → 30 s, five retries: ≈ 30–60 s of cover); each completes once S3 is
back, and a write cut in the middle is redone into the same version number, never a second one.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from docgen.processes import wait_until
from tests.faults.conftest import (
    Outcome,
    OwnRedis,
    OwnS3,
    job_body,
    report,
    running,
    submit,
)
from tests.stack import CLIENT, service_env

pytestmark = [pytest.mark.faults, pytest.mark.slow]

JOBS = 12
OUTAGE_S = 20


def test_s3_down_for_20_seconds_mid_batch_every_job_completes_once(
    own_redis: OwnRedis, own_s3: OwnS3, sample_dict: dict[str, Any], tmp_path: Path
) -> None:
    env = service_env(own_redis.url, own_s3.server, "faults-s3-down")
    with running(env, tmp_path / "logs") as service:
        locations = [
            submit(
                service,
                job_body(sample_dict, f"faults-s3-{n:02d}", ["industry_analysis", "annual_report"]),
            )
            for n in range(JOBS)
        ]

        def finished() -> int:
            return sum(
                httpx.get(loc, headers=CLIENT, timeout=10).json()["status"] == "succeeded"
                for loc in locations
            )

        wait_until(lambda: finished() >= 2, 120, "the first jobs")
        done_before = finished()
        assert done_before < JOBS, "the outage must hit the middle of the batch"
        own_s3.kill()
        killed_at = time.monotonic()
        time.sleep(OUTAGE_S)  # the injected outage itself, not a wait for a result
        own_s3.start()
        back_s = time.monotonic() - killed_at
        outcome = Outcome(service, locations, timeout_s=300)
        recovered_s = time.monotonic() - killed_at
        assert outcome.statuses() == {"succeeded": JOBS}, [
            (job["community_id"], [d.get("error") for d in job["documents"]])
            for job in outcome.jobs
            if job["status"] != "succeeded"
        ]
        retries = outcome.retries()
        fsck_report = outcome.check()
        report(
            "4 S3 down 20 s",
            jobs=JOBS,
            documents=len(outcome.documents),
            jobs_done_before_outage=done_before,
            document_retries=retries,
            s3_back_after_s=f"{back_s:.1f}",
            kill_to_all_done_s=f"{recovered_s:.1f}",
            fsck=fsck_report.get("checked"),
        )
