"""Scenario 5: Redis (the scenario's own, AOF with `appendfsync everysec`) SIGKILLed and
restarted on its port and data dir.

While it is down the API answers `503` `queue.unavailable` with `Retry-After` — never `500` —
on job creation and job reads. After it is back, new jobs work and every job accepted before
completes. Then the queue is lost on purpose (dramatiq's keys deleted, what a machine crash under
`everysec` or a Redis without persistence can do): the reconciler in the workers re-enqueues the
unfinished documents from the job records, and every job still completes once.

What Redis persistence guarantees under which setting is in the README (Faults) and
docs/RELIABILITY.md.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis

from docgen.processes import wait_until
from tests.conftest import S3Server
from tests.faults.conftest import Outcome, OwnRedis, job_body, report, running, submit
from tests.stack import CLIENT, service_env

pytestmark = [pytest.mark.faults, pytest.mark.slow]

JOBS = 10
OUTAGE_S = 10


def test_redis_killed_answers_503_then_every_job_completes_and_lost_messages_are_reconciled(
    own_redis: OwnRedis, s3_server: S3Server, sample_dict: dict[str, Any], tmp_path: Path
) -> None:
    env = service_env(
        own_redis.url,
        s3_server,
        "faults-redis",
        redelivery_after="5",
        # The reconciler: a pass every 5 s, work untouched 20 s with no message counts as lost
        # (defaults 60 s and 300 s; 20 s is above this list's conversion under load).
        reconcile_interval="5",
        reconcile_after="20",
    )
    attachments = ["industry_analysis", "annual_report"]
    with running(env, tmp_path / "logs") as service:
        locations = [
            submit(service, job_body(sample_dict, f"faults-redis-{n:02d}", attachments))
            for n in range(JOBS)
        ]
        wait_until(
            lambda: (
                httpx.get(locations[0], headers=CLIENT, timeout=10).json()["status"] == "succeeded"
            ),
            120,
            "the first job",
        )

        own_redis.kill()
        killed_at = time.monotonic()
        answers: dict[int, int] = {}
        retry_after: set[str] = set()
        with httpx.Client(headers=CLIENT, timeout=30) as client:
            while time.monotonic() - killed_at < OUTAGE_S:  # the outage, probed all along
                for answer in (
                    client.post(
                        f"{service.url}/v1/jobs",
                        json=job_body(sample_dict, "faults-redis-down", attachments),
                    ),
                    client.get(locations[-1]),
                ):
                    answers[answer.status_code] = answers.get(answer.status_code, 0) + 1
                    if answer.status_code == 503:
                        codes = [e["code"] for e in answer.json()["errors"]]
                        assert codes == ["queue.unavailable"], answer.text
                        retry_after.add(answer.headers.get("retry-after", ""))
                time.sleep(0.2)  # probing interval
            assert httpx.get(f"{service.url}/health", timeout=10).status_code == 200
            assert httpx.get(f"{service.url}/ready", timeout=30).status_code == 503
        assert set(answers) == {503}, answers
        assert "" not in retry_after, retry_after
        own_redis.start()
        restarted_at = time.monotonic()

        # New jobs work once Redis is back.
        fresh = submit(service, job_body(sample_dict, "faults-redis-after", attachments))
        first_new_s = time.monotonic() - restarted_at

        # The queue lost on purpose: only the job records (AOF) and the inputs (S3) remain.
        client = redis.Redis.from_url(own_redis.url)
        try:
            lost = list(client.scan_iter("dramatiq:*"))
            if lost:
                client.delete(*lost)
        finally:
            client.close()

        outcome = Outcome(service, [*locations, fresh], timeout_s=300)
        recovered_s = time.monotonic() - restarted_at
        assert outcome.statuses() == {"succeeded": JOBS + 1}, outcome.jobs
        assert service.worker is not None
        worker_log = service.worker.log_tail(5000)
        requeued = {
            what: worker_log.count(f"reconcile.{what} ")
            for what in ("document", "finish", "deliver")
        }
        fsck_report = outcome.check()
        report(
            "5 Redis SIGKILL + restart",
            jobs=JOBS + 1,
            answers_while_down=answers,
            retry_after=sorted(retry_after),
            new_job_accepted_after_s=f"{first_new_s:.1f}",
            queue_keys_deleted=len(lost),
            reconciler_requeues=requeued,
            document_retries=outcome.retries(),
            restart_to_all_done_s=f"{recovered_s:.1f}",
            fsck=fsck_report.get("checked"),
        )
