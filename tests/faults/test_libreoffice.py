"""Scenarios 2 and 3: LibreOffice killed (SIGKILL) or hung (SIGSTOP) in the middle of a
conversion. The pool replaces the instance (its whole process group) and retries the document
on another one; jobs on the other instance are not held up.

The converting instance is found from outside, as an operator would: the unoserver whose port
has the worker's XML-RPC connection open (tests/faults/conftest.py, `busy_office_group`).
"""

from __future__ import annotations

import contextlib
import os
import signal
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import S3Server
from tests.faults.conftest import (
    Outcome,
    OwnRedis,
    job_body,
    long_list_body,
    pool_stats_reaching,
    report,
    running,
    submit,
    wait_for_busy_office,
)
from tests.stack import CLIENT, service_env

pytestmark = pytest.mark.faults

ROWS = 600  # ≈ 3 s of conversion here: long enough to be caught converting


def test_libreoffice_killed_mid_conversion_is_replaced_and_the_document_retried(
    own_redis: OwnRedis, s3_server: S3Server, sample_dict: dict[str, Any], tmp_path: Path
) -> None:
    env = service_env(own_redis.url, s3_server, "faults-office-kill")
    with running(env, tmp_path / "logs") as service:
        assert service.worker is not None
        long_job = submit(service, long_list_body(sample_dict, "faults-kill-long", ROWS))
        group = wait_for_busy_office(service.worker.pid)
        os.killpg(group, signal.SIGKILL)
        killed_at = time.monotonic()
        others = [
            submit(service, job_body(sample_dict, f"faults-kill-{n}", ["industry_analysis"]))
            for n in range(3)
        ]
        outcome = Outcome(service, [long_job, *others], timeout_s=180)
        recovered_s = time.monotonic() - killed_at
        assert outcome.statuses() == {"succeeded": 4}, outcome.jobs
        stats = pool_stats_reaching(own_redis.url, restarts=1, failures=1)
        assert stats["restarts"] >= 1 and stats["failures"] >= 1, stats
        fsck_report = outcome.check()
        report(
            "2 LibreOffice SIGKILL",
            jobs=4,
            succeeded=4,
            pool_failures=stats["failures"],
            pool_restarts=stats["restarts"],
            document_retries=outcome.retries(),
            kill_to_all_done_s=f"{recovered_s:.1f}",
            fsck=fsck_report.get("checked"),
        )


@pytest.mark.slow
def test_a_hung_libreoffice_times_out_is_replaced_and_other_jobs_go_on(
    own_redis: OwnRedis, s3_server: S3Server, sample_dict: dict[str, Any], tmp_path: Path
) -> None:
    timeout_s = 20  # far above the ≈3 s this list takes, far below the 120 s default
    env = service_env(
        own_redis.url, s3_server, "faults-office-hang", conversion_timeout=str(timeout_s)
    )
    with running(env, tmp_path / "logs") as service:
        assert service.worker is not None
        long_job = submit(service, long_list_body(sample_dict, "faults-hang-long", ROWS))
        group = wait_for_busy_office(service.worker.pid)
        os.killpg(group, signal.SIGSTOP)
        stopped_at = time.monotonic()
        try:
            others = [
                submit(service, job_body(sample_dict, f"faults-hang-{n}", ["industry_analysis"]))
                for n in range(3)
            ]
            # The other jobs finish on the other instance while this one is still hung.
            quick = Outcome(service, others, timeout_s=timeout_s)
            others_s = time.monotonic() - stopped_at
            assert quick.statuses() == {"succeeded": 3}, quick.jobs
            assert httpx.get(long_job, headers=CLIENT, timeout=10).json()["status"] == "running"
            outcome = Outcome(service, [long_job, *others], timeout_s=180)
            recovered_s = time.monotonic() - stopped_at
        finally:
            # The pool kills the hung group when it replaces it; if it did not, do not leave it.
            with contextlib.suppress(ProcessLookupError):
                os.killpg(group, signal.SIGKILL)
        (long,) = [job for job in outcome.jobs if job["links"]["self"] == long_job]
        if long["status"] == "failed":  # allowed by the issue, with this reason only
            assert long["documents"][0]["error"]["code"] == "conversion.timeout", long
        else:
            assert long["status"] == "succeeded", long
        stats = pool_stats_reaching(own_redis.url, timeouts=1, restarts=1)
        assert stats["timeouts"] >= 1 and stats["restarts"] >= 1, stats
        assert recovered_s >= timeout_s
        fsck_report = outcome.check()
        report(
            "3 LibreOffice SIGSTOP",
            jobs=4,
            long_job=long["status"],
            other_jobs_done_s=f"{others_s:.1f}",
            conversion_timeout_s=timeout_s,
            pool_timeouts=stats["timeouts"],
            pool_restarts=stats["restarts"],
            document_retries=outcome.retries(),
            stop_to_all_done_s=f"{recovered_s:.1f}",
            fsck=fsck_report.get("checked"),
        )
