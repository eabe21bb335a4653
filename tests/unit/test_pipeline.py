"""Producing a document: versions, idempotent retries, failures that spare the other documents."""

from __future__ import annotations

import datetime as dt

import msgspec
import pytest

from doc_templates import TEMPLATES_DIR
from docgen.errors import DocgenError
from docgen.jobs import JobRecord, MemoryJobStore, job_status
from docgen.objectstore import MemoryStore
from docgen.pipeline import Workshop, produce_document
from docgen.schema import JobRequest
from docgen.storage import MemoryVersionCounter, input_key
from docgen.templates import load_catalogue
from tests.fakes import CountingConverter


def workshop_with_job(
    request: JobRequest, converter: CountingConverter, store: MemoryStore | None = None
) -> tuple[Workshop, JobRecord]:
    store = store or MemoryStore()
    jobs = MemoryJobStore()
    body = msgspec.json.encode(request)
    job = JobRecord(
        "job1",
        "default",
        request.community_id,
        request.year,
        dt.datetime(2026, 5, 1, tzinfo=dt.UTC),
        input_key("default", "abc"),
        request.requested_attachments(),
    )
    store.put(job.input_key, body, "application/json")
    jobs.create(job)
    workshop = Workshop(
        jobs, store, converter, load_catalogue(TEMPLATES_DIR), MemoryVersionCounter()
    )
    return workshop, job


def test_a_document_is_stored_as_version_one_with_a_manifest(sample_request: JobRequest) -> None:
    workshop, job = workshop_with_job(sample_request, CountingConverter())
    done = produce_document(workshop, job.id, "application")
    assert done is not None and done.status == "succeeded"
    assert (done.version, done.reused, done.pages) == (1, False, 1)
    prefix = "default/communities/rail-transit-equipment/2026/application/v1/"
    assert done.pdf_key == prefix + "附件5-行业产教融合共同体申报书.pdf"
    manifest = msgspec.json.decode(workshop.store.get(prefix + "manifest.json") or b"")
    assert manifest["files"]["pdf"]["key"] == done.pdf_key
    assert manifest["template_sha256"] == workshop.catalogue["application"].sha256


def test_a_redelivered_message_finds_its_work_done(sample_request: JobRequest) -> None:
    converter = CountingConverter()
    workshop, job = workshop_with_job(sample_request, converter)
    first = produce_document(workshop, job.id, "industry_analysis")
    again = produce_document(workshop, job.id, "industry_analysis")
    assert first == again
    assert converter.calls == 1


def test_the_same_document_in_a_new_job_reuses_its_version(sample_request: JobRequest) -> None:
    converter = CountingConverter()
    workshop, job = workshop_with_job(sample_request, converter)
    produce_document(workshop, job.id, "industry_analysis")
    second, job2 = workshop_with_job(sample_request, converter, store=workshop.store)  # type: ignore[arg-type]
    done = produce_document(second, job2.id, "industry_analysis")
    assert done is not None and (done.version, done.reused) == (1, True)
    assert converter.calls == 1


def test_a_retryable_failure_is_raised_until_the_last_attempt(sample_request: JobRequest) -> None:
    workshop, job = workshop_with_job(sample_request, CountingConverter(failures=1))
    with pytest.raises(DocgenError):
        produce_document(workshop, job.id, "annual_report", final_attempt=False)
    done = produce_document(workshop, job.id, "annual_report", final_attempt=False)
    assert done is not None and done.status == "succeeded" and done.attempts == 2


def test_a_failed_document_has_a_reason_and_the_others_go_on(sample_request: JobRequest) -> None:
    workshop, job = workshop_with_job(
        sample_request, CountingConverter(failures=1, retryable=False)
    )
    failed = produce_document(workshop, job.id, "supply_demand")
    assert failed is not None and failed.status == "failed"
    assert failed.error is not None and failed.error.code == "conversion.unavailable"
    for attachment in job.attachments:
        produce_document(workshop, job.id, attachment)
    found = workshop.jobs.get(job.id)
    assert found is not None
    assert job_status(found[1]) == "partial"
    assert (
        workshop.store.get(
            "default/communities/rail-transit-equipment/2026/supply_demand/v1/manifest.json"
        )
        is None
    )
