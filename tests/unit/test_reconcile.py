"""The reconciler's decisions on in-memory jobs and queues: what is lost, what is only slow."""

from __future__ import annotations

import datetime as dt

import msgspec

from docgen.jobs import (
    BundleRecord,
    DocumentRecord,
    JobRecord,
    MemoryJobStore,
    NotificationRecord,
)
from docgen.queue import DELIVER, FINISH_JOB, PRODUCE_DOCUMENT, ListEnqueuer
from docgen.reconcile import MAX_REQUEUES, Reconciled, reconcile

NOW = dt.datetime(2026, 3, 1, 12, 0, tzinfo=dt.UTC)
LONG_AGO = NOW - dt.timedelta(hours=1)


class Pending:
    def __init__(self, *messages: tuple[str, tuple[str, ...]]) -> None:
        self.messages = set(messages)

    def pending(self) -> set[tuple[str, tuple[str, ...]]]:
        return self.messages


def make_job(
    jobs: MemoryJobStore, job_id: str, created: dt.datetime = LONG_AGO, **kw: object
) -> JobRecord:
    job = JobRecord(
        id=job_id,
        tenant="dev",
        community_id="c-1",
        year=2026,
        created_at=created,
        input_key="dev/inputs/x.json",
        **{"attachments": ("industry_analysis", "application"), **kw},  # type: ignore[arg-type]
    )
    jobs.create(job)
    return job


def finish_documents(jobs: MemoryJobStore, job: JobRecord, at: dt.datetime = LONG_AGO) -> None:
    for attachment in job.attachments:
        jobs.put_document(
            job.id,
            DocumentRecord(
                attachment, "succeeded", version=1, pdf_key="k", docx_key="k", finished_at=at
            ),
        )


def test_a_job_whose_messages_were_lost_is_enqueued_again_and_only_once() -> None:
    jobs, enqueuer = MemoryJobStore(), ListEnqueuer()
    make_job(jobs, "lost")
    pending = Pending((PRODUCE_DOCUMENT, ("lost", "application")))  # one message survived
    done = reconcile(jobs, pending, enqueuer, now=NOW)
    assert done == [Reconciled("document", "lost", "industry_analysis")]
    assert enqueuer.messages == [("lost", "industry_analysis")]
    pending.messages.add((PRODUCE_DOCUMENT, ("lost", "industry_analysis")))
    assert reconcile(jobs, pending, enqueuer, now=NOW) == []


def test_recent_jobs_and_recently_started_documents_are_left_alone() -> None:
    jobs, enqueuer = MemoryJobStore(), ListEnqueuer()
    make_job(jobs, "new", created=NOW - dt.timedelta(seconds=10))  # its enqueue may be under way
    make_job(jobs, "busy")
    jobs.put_document(
        "busy",
        DocumentRecord("industry_analysis", "running", started_at=NOW - dt.timedelta(seconds=20)),
    )
    assert reconcile(jobs, Pending(), enqueuer, now=NOW) == [
        Reconciled("document", "busy", "application")
    ]


def test_a_batch_job_goes_back_to_the_batch_queue() -> None:
    jobs, enqueuer = MemoryJobStore(), ListEnqueuer()
    make_job(jobs, "b", batch_id="batch-1")
    reconcile(jobs, Pending(), enqueuer, now=NOW)
    assert enqueuer.batch_messages == [("b", "industry_analysis"), ("b", "application")]
    assert enqueuer.messages == []


def test_work_lost_again_and_again_is_given_up_with_a_reason() -> None:
    jobs, enqueuer = MemoryJobStore(), ListEnqueuer()
    make_job(jobs, "cursed", attachments=("application",))
    for _ in range(MAX_REQUEUES):
        assert reconcile(jobs, Pending(), enqueuer, now=NOW)[0].action == "document"
    assert reconcile(jobs, Pending(), enqueuer, now=NOW) == [
        Reconciled("gave_up", "cursed", "application")
    ]
    _, docs = jobs.get("cursed") or (None, [])
    assert docs[0].status == "failed" and docs[0].error is not None
    assert docs[0].error.code == "job.lost"


def test_an_unclaimed_finished_job_is_claimed_and_finished_once() -> None:
    jobs, enqueuer = MemoryJobStore(), ListEnqueuer()
    job = make_job(jobs, "done")
    finish_documents(jobs, job)
    assert reconcile(jobs, Pending(), enqueuer, now=NOW) == [Reconciled("finish", "done", "finish")]
    assert not jobs.claim_finish("done")  # claimed by the reconciler: no worker finishes it too
    assert enqueuer.finishes == ["done"]


def test_a_claimed_finishing_that_never_ran_is_enqueued_unless_its_message_exists() -> None:
    jobs, enqueuer = MemoryJobStore(), ListEnqueuer()
    job = make_job(jobs, "crashed", notify_emails=("a@example.cn",))
    finish_documents(jobs, job)
    jobs.claim_finish("crashed")  # the worker claimed it, then died before enqueueing
    assert reconcile(jobs, Pending((FINISH_JOB, ("crashed",))), enqueuer, now=NOW) == []
    assert reconcile(jobs, Pending(), enqueuer, now=NOW) == [
        Reconciled("finish", "crashed", "finish")
    ]


def test_a_recipient_left_queued_without_a_message_is_told_again() -> None:
    jobs, enqueuer = MemoryJobStore(), ListEnqueuer()
    job = make_job(jobs, "told", notify_emails=("a@example.cn", "b@example.cn"))
    finish_documents(jobs, job)
    jobs.claim_finish("told")
    jobs.put_bundle("told", BundleRecord("p", "z", job.attachments))
    jobs.put_notification("told", NotificationRecord("email", "a@example.cn", "sent"))
    jobs.put_notification("told", NotificationRecord("email", "b@example.cn"))
    pending = Pending((DELIVER, ("told", "email", "b@example.cn")))
    assert reconcile(jobs, pending, enqueuer, now=NOW) == []
    assert reconcile(jobs, Pending(), enqueuer, now=NOW) == [Reconciled("deliver", "told", "email")]
    assert enqueuer.deliveries == [("told", "email", "b@example.cn")]


def test_a_job_finished_just_now_is_left_to_its_worker() -> None:
    jobs, enqueuer = MemoryJobStore(), ListEnqueuer()
    job = make_job(jobs, "fresh")
    finish_documents(jobs, job, at=NOW - dt.timedelta(seconds=5))
    assert reconcile(jobs, Pending(), enqueuer, now=NOW) == []
    assert jobs.claim_finish("fresh")  # still the worker's to claim


def test_the_pass_reports_as_json() -> None:
    encoded = msgspec.json.encode([Reconciled("document", "j", "application")])
    assert msgspec.json.decode(encoded) == [
        {"action": "document", "job_id": "j", "what": "application"}
    ]
