"""Scenario 6: the SMTP server and the webhook receiver are down (nothing listens on their
ports). The documents are stored all the same; each email and webhook is retried with backoff,
then recorded as failed on the job with its attempts and the last error."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from docgen.processes import free_port, wait_until
from tests.conftest import S3Server
from tests.faults.conftest import Outcome, OwnRedis, job_body, report, running, submit
from tests.stack import CLIENT, service_env, smtp_to

pytestmark = pytest.mark.faults

ATTEMPTS = 3  # backoff ≈ 2 s then 4 s (the worker's `telling` policy): seconds, not minutes


def test_mail_and_webhook_down_documents_stored_notifications_retried_then_failed(
    own_redis: OwnRedis, s3_server: S3Server, sample_dict: dict[str, Any], tmp_path: Path
) -> None:
    smtp_port, webhook_port = free_port(), free_port()  # nothing listens there
    env = service_env(
        own_redis.url,
        s3_server,
        "faults-delivery",
        converter_pool_size="1",  # one LibreOffice is enough here and starts sooner
        **smtp_to(smtp_port),
        delivery_attempts=str(ATTEMPTS),
        webhook_secret="faults webhook secret",
    )
    with running(env, tmp_path / "logs") as service:
        body = job_body(sample_dict, "faults-delivery", ["industry_analysis", "annual_report"])
        body["notify"] = {
            "emails": ["contact@rail-community.example.cn", "office@rail-community.example.cn"],
            "webhook_url": f"http://127.0.0.1:{webhook_port}/hooks/docgen",
        }
        started = time.monotonic()
        location = submit(service, body)
        outcome = Outcome(service, [location], timeout_s=120)
        documents_s = time.monotonic() - started
        assert outcome.statuses() == {"succeeded": 1}, outcome.jobs

        def notifications() -> list[dict[str, Any]]:
            notes: list[dict[str, Any]] = httpx.get(location, headers=CLIENT, timeout=10).json()[
                "notifications"
            ]
            return notes

        wait_until(
            lambda: (
                len(notifications()) == 3 and all(n["status"] == "failed" for n in notifications())
            ),
            120,
            "notifications recorded as failed",
        )
        given_up_s = time.monotonic() - started
        notes = notifications()
        for note in notes:
            assert note["attempts"] == ATTEMPTS, note
            expected = "mail.failed" if note["channel"] == "email" else "webhook.failed"
            assert note["last_error"].startswith(expected), note
        # The documents stayed downloadable: delivery failing touches nothing stored.
        job = outcome.jobs[0]
        pdf = httpx.get(job["documents"][0]["pdf_url"], headers=CLIENT, follow_redirects=True)
        assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
        fsck_report = outcome.check()
        report(
            "6 SMTP and webhook down",
            jobs=1,
            documents="2 succeeded",
            notifications=f"{len(notes)} failed after {ATTEMPTS} attempts each",
            documents_done_s=f"{documents_s:.1f}",
            given_up_s=f"{given_up_s:.1f}",
            fsck=fsck_report.get("checked"),
        )
        print("  " + "; ".join(f"{n['channel']}: {n['last_error']}" for n in notes))
