"""Scenario 1: the worker SIGKILLed in the middle of a conversion, a new one started.

The worker's process group and its LibreOffice instances are killed together, as when its
container or host dies. dramatiq on Redis is at-least-once: the killed worker's messages come
back once its heartbeat is older than DOCGEN_REDELIVERY_AFTER (5 s here, 60 s by default), the
new worker redoes them, and idempotent documents make no second version.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from docgen.processes import wait_until
from tests.conftest import S3Server
from tests.faults.conftest import (
    Outcome,
    OwnRedis,
    job_body,
    long_list_body,
    report,
    running,
    submit,
    wait_for_busy_office,
)
from tests.stack import service_env

pytestmark = [pytest.mark.faults, pytest.mark.slow]

REDELIVERY_AFTER_S = 5


def test_a_worker_killed_mid_conversion_is_replaced_and_every_job_completes_once(
    own_redis: OwnRedis, s3_server: S3Server, sample_dict: dict[str, Any], tmp_path: Path
) -> None:
    env = service_env(
        own_redis.url,
        s3_server,
        "faults-worker-kill",
        redelivery_after=str(REDELIVERY_AFTER_S),
    )
    with running(env, tmp_path / "logs") as service:
        worker = service.worker
        assert worker is not None
        locations = [submit(service, long_list_body(sample_dict, "faults-wk-long", 600))]
        locations += [
            submit(service, job_body(sample_dict, f"faults-wk-{n}", sample_dict["attachments"]))
            for n in range(4)
        ]
        wait_for_busy_office(worker.pid)
        service.kill_worker()
        killed_at = time.monotonic()

        new = service.start_worker(name="worker-2")
        # /ready may still see the dead worker's heartbeat (15 s): its own log says when it is up.
        wait_until(lambda: "worker.started" in new.log_tail(200), 120, "worker-2", alive=new.alive)
        restarted_s = time.monotonic() - killed_at
        outcome = Outcome(service, locations, timeout_s=300)
        recovered_s = time.monotonic() - killed_at
        assert outcome.statuses() == {"succeeded": 5}, outcome.jobs
        retries = outcome.retries()
        assert retries >= 1, "the document being converted was started again"
        fsck_report = outcome.check()
        report(
            "1 worker SIGKILL",
            jobs=5,
            documents=len(outcome.documents),
            succeeded=5,
            document_retries=retries,
            new_worker_ready_s=f"{restarted_s:.1f}",
            kill_to_all_done_s=f"{recovered_s:.1f}",
            fsck=fsck_report.get("checked"),
        )
