"""Finishing a job: the bundle once, each recipient told once, failures recorded then given up."""

from __future__ import annotations

import msgspec
import pytest

from docgen.delivery import deliver, finish_job, job_done
from docgen.errors import DocgenError
from docgen.mail import SmtpSettings
from docgen.pipeline import produce_document
from docgen.processes import free_port
from docgen.schema import JobRequest
from docgen.settings import load_settings
from tests.fakes import CountingConverter
from tests.unit.test_pipeline import workshop_with_job


def _finished_job(request: JobRequest, **notify: object):  # type: ignore[no-untyped-def]
    workshop, job = workshop_with_job(request, CountingConverter())
    job = msgspec.structs.replace(job, **notify)
    workshop.jobs.create(job)
    for attachment in job.attachments:
        produce_document(workshop, job.id, attachment)
    return workshop, job


def _settings(smtp_port: int | None = None):  # type: ignore[no-untyped-def]
    delivery = load_settings({"DOCGEN_LINK_SECRET": "x" * 32}).delivery
    smtp = (
        SmtpSettings("127.0.0.1", smtp_port, "none", "", "", "d@x.cn", 2.0) if smtp_port else None
    )
    return msgspec.structs.replace(delivery, smtp=smtp)


def test_the_finishing_starts_once_and_only_when_every_document_is_done(
    sample_request: JobRequest,
) -> None:
    workshop, job = workshop_with_job(sample_request, CountingConverter())
    produce_document(workshop, job.id, "industry_analysis")
    assert not job_done(workshop, job.id)  # four documents still queued
    for attachment in job.attachments[1:]:
        produce_document(workshop, job.id, attachment)
    assert job_done(workshop, job.id)
    assert not job_done(workshop, job.id)  # a second caller does not start it again


def test_the_bundle_is_made_once_and_every_recipient_is_listed_once(
    sample_request: JobRequest,
) -> None:
    workshop, job = _finished_job(
        sample_request, notify_emails=("a@x.cn", "b@x.cn"), webhook_url="https://p.example/h"
    )
    pending = finish_job(workshop, job.id)
    assert pending == [("email", "a@x.cn"), ("email", "b@x.cn"), ("webhook", "https://p.example/h")]
    bundle = workshop.jobs.get_delivery(job.id).bundle
    assert bundle is not None and len(bundle.attachments) == 5
    puts = len(workshop.store.objects)  # type: ignore[attr-defined]
    assert finish_job(workshop, job.id) == pending  # a redelivered message: nothing made twice
    assert len(workshop.store.objects) == puts  # type: ignore[attr-defined]


def test_an_unreachable_mail_server_is_retried_then_recorded_as_failed(
    sample_request: JobRequest,
) -> None:
    workshop, job = _finished_job(sample_request, notify_emails=("a@x.cn",))
    finish_job(workshop, job.id)
    settings = _settings(smtp_port=free_port())  # nothing listens there
    with pytest.raises(DocgenError) as retry:
        deliver(workshop, job.id, "email", "a@x.cn", settings, "http://api", final_attempt=False)
    assert retry.value.code == "mail.failed" and retry.value.retryable
    [note] = workshop.jobs.get_delivery(job.id).notifications
    assert (note.status, note.attempts) == ("queued", 1)
    final = deliver(workshop, job.id, "email", "a@x.cn", settings, "http://api", final_attempt=True)
    assert final is not None
    assert (final.status, final.attempts) == ("failed", 2)
    assert final.last_error is not None and final.last_error.startswith("mail.failed")
    # Given up: a late redelivery does not try again.
    again = deliver(workshop, job.id, "email", "a@x.cn", settings, "http://api", final_attempt=True)
    assert again == final


def test_without_an_smtp_server_configured_the_email_fails_at_once(
    sample_request: JobRequest,
) -> None:
    workshop, job = _finished_job(sample_request, notify_emails=("a@x.cn",))
    finish_job(workshop, job.id)
    note = deliver(
        workshop, job.id, "email", "a@x.cn", _settings(), "http://a", final_attempt=False
    )
    assert note is not None and note.status == "failed"
    assert note.last_error is not None and note.last_error.startswith("mail.unconfigured")
