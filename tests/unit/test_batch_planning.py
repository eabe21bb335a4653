"""Planning a batch from stored inputs: which communities, which attachments, no job twice."""

from __future__ import annotations

import datetime as dt

import msgspec

from docgen.batches import (
    BatchFilter,
    BatchRequest,
    MemoryBatchStore,
    batch_status,
    plan_batch,
)
from docgen.jobs import DocumentRecord, MemoryJobStore
from docgen.objectstore import MemoryStore
from docgen.schema import JobRequest
from docgen.storage import LatestInput, input_key, put_latest_input

NOW = dt.datetime(2026, 12, 1, tzinfo=dt.UTC)


def store_inputs(request: JobRequest) -> MemoryStore:
    """Three communities: two in 湖南省; cc3's 申报书 came later in its own request."""
    store = MemoryStore()
    for community_id, province in (("cc1", "湖南省"), ("cc2", "北京市"), ("cc3", "湖南省")):
        body = msgspec.json.encode(msgspec.structs.replace(request, community_id=community_id))
        key = input_key("default", f"{community_id}-march")
        store.put(key, body, "application/json")
        attachments = ["industry_analysis", "talent_forecast"]
        if community_id != "cc3":
            attachments.append("application")
        for attachment in attachments:
            put_latest_input(
                store,
                "default",
                LatestInput(community_id, 2026, attachment, key, "j", NOW, province),
            )
    later = input_key("default", "cc3-october")
    store.put(later, msgspec.json.encode(request), "application/json")
    put_latest_input(
        store, "default", LatestInput("cc3", 2026, "application", later, "j2", NOW, "湖南省")
    )
    return store


def test_a_batch_takes_each_attachment_from_the_input_that_last_carried_it(
    sample_request: JobRequest,
) -> None:
    store, jobs, batches = store_inputs(sample_request), MemoryJobStore(), MemoryBatchStore()
    batch = plan_batch(store, jobs, batches, "b1", "default", BatchRequest(year=2026), NOW)
    planned = sorted(
        (job.community_id, job.input_key.rsplit("/", 1)[1], job.attachments)
        for job, _ in (jobs.get(i) for i in batch.job_ids)  # type: ignore[misc]
    )
    assert planned == [
        ("cc1", "cc1-march.json", ("industry_analysis", "talent_forecast", "application")),
        ("cc2", "cc2-march.json", ("industry_analysis", "talent_forecast", "application")),
        ("cc3", "cc3-march.json", ("industry_analysis", "talent_forecast")),
        ("cc3", "cc3-october.json", ("application",)),
    ]


def test_filters_select_provinces_and_attachments_and_planning_twice_makes_no_new_job(
    sample_request: JobRequest,
) -> None:
    store, jobs, batches = store_inputs(sample_request), MemoryJobStore(), MemoryBatchStore()
    request = BatchRequest(
        year=2026,
        filter=BatchFilter(provinces=["湖南省"], attachments=["application"]),
        force=True,
    )
    first = plan_batch(store, jobs, batches, "b2", "default", request, NOW)
    again = plan_batch(store, jobs, batches, "b2", "default", request, NOW)
    assert first.job_ids == again.job_ids and len(first.job_ids) == 2
    for job_id in first.job_ids:
        found = jobs.get(job_id)
        assert found is not None
        assert found[0].attachments == ("application",) and found[0].force
        assert found[0].batch_id == "b2" and found[0].notify_emails == ()


def test_the_status_counts_documents_and_estimates_the_rest(sample_request: JobRequest) -> None:
    store, jobs, batches = store_inputs(sample_request), MemoryJobStore(), MemoryBatchStore()
    batch = plan_batch(store, jobs, batches, "b3", "default", BatchRequest(year=2026), NOW)
    first, second = batch.job_ids[0], batch.job_ids[1]
    jobs.put_document(first, DocumentRecord("industry_analysis", "succeeded", version=2))
    jobs.put_document(first, DocumentRecord("talent_forecast", "succeeded", reused=True))
    jobs.put_document(second, DocumentRecord("industry_analysis", "failed"))
    status = batch_status(jobs, batches, batch, NOW + dt.timedelta(seconds=30))
    assert (status.total, status.done, status.reused, status.failed) == (9, 1, 1, 1)
    assert status.queued == 6 and status.state == "running"
    assert status.eta_s == 60.0  # 3 finished in 30 s, 6 to go
    batches.cancel("b3")
    assert batch_status(jobs, batches, batch, NOW).state == "cancelled"
