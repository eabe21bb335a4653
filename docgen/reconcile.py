"""The reconciler: re-enqueue work whose message was lost, so that no accepted job is stranded.

A job's record (Redis) and input (S3) say what is still to do; dramatiq's keys say which
messages will still run (docgen.queue.RedisPendingMessages). Work is lost when:
- a document is `queued`/`running`, its job (or its last start) older than `after`, and no
  `produce_*` message for it is waiting, delayed or in a worker's hands — Redis restarted
  without the queue, or the API recorded the job and Redis died before the enqueue;
- every document finished longer than `after` ago and nobody claimed the finishing (the last
  worker's message was lost after it recorded its document) → claim it, enqueue `finish_job`;
- the finishing was claimed but never ran — the bundle or a recipient's record is missing and no
  `finish_job` message exists (a worker crashed between `claim_finish` and the enqueue);
- a recipient is still `queued` and no `deliver` message exists for it.

Re-enqueueing is safe because every actor is idempotent: a document found by its identity
reuses its version (docgen/storage.py), the bundle is made once, a recipient told once. `after`
must exceed the time a message can spend in a worker's hands without refreshing the document's
`started_at` (a conversion's timeout plus a retry's backoff), or a slow document is re-enqueued
while it runs — harmless, but wasted work. Work lost more than `MAX_REQUEUES` times is given up
on: the document fails with `job.lost` rather than loop forever.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from typing import Any, Literal, Protocol

import msgspec

from docgen.fsck import JobIndex
from docgen.jobs import (
    DocumentRecord,
    ErrorInfo,
    JobRecord,
    NotificationRecord,
    iter_jobs,
    job_finished_at,
    redis_errors,
    utcnow,
)
from docgen.queue import (
    DELIVER,
    FINISH_JOB,
    PRODUCE_BATCH_DOCUMENT,
    PRODUCE_DOCUMENT,
    Enqueuer,
    PendingMessages,
)

__all__ = [
    "DEFAULT_AFTER",
    "LOOKBACK",
    "MAX_REQUEUES",
    "Reconciled",
    "ReconcilerJobs",
    "reconcile",
    "take_turn",
]

log = logging.getLogger("docgen.reconcile")

# A conversion may take its 120 s timeout, then back off up to 30 s and run again: five minutes
# without a new `started_at` means the message is gone, not slow.
DEFAULT_AFTER = dt.timedelta(minutes=5)
# Older jobs are not looked at: a version's reservation lives a week (docgen/storage.py), so a
# document re-enqueued later could take a second number.
LOOKBACK = dt.timedelta(days=7)
MAX_REQUEUES = 3

Action = Literal["document", "finish", "deliver", "gave_up"]


class Reconciled(msgspec.Struct, frozen=True):
    """One thing a pass did: re-enqueued a document, the finishing or a delivery, or gave up."""

    action: Action
    job_id: str
    what: str  # the attachment, "finish", or the notification's channel


class ReconcilerJobs(JobIndex, Protocol):
    def claim_finish(self, job_id: str) -> bool: ...
    def count_requeue(self, job_id: str, what: str) -> int: ...
    def put_document(self, job_id: str, document: DocumentRecord) -> None: ...
    def put_notification(self, job_id: str, notification: NotificationRecord) -> None: ...


_LOST = ErrorInfo(
    "job.lost",
    "该文档的任务消息多次丢失，已停止重试，请重新提交",
    "The document's work was lost repeatedly; submit it again",
)


def reconcile(
    jobs: ReconcilerJobs,
    messages: PendingMessages,
    enqueuer: Enqueuer,
    *,
    after: dt.timedelta = DEFAULT_AFTER,
    tenant: str | None = None,
    now: dt.datetime | None = None,
) -> list[Reconciled]:
    """One pass over the jobs created between `LOOKBACK` and `after` ago; what it re-enqueued."""
    now = now or utcnow()
    settled = now - after
    # Messages first, records second: a message acknowledged in between belongs to a document
    # already recorded as finished, so it is never taken for lost.
    pending = messages.pending()
    done: list[Reconciled] = []

    def requeue(job_id: str, what: str) -> bool:
        return jobs.count_requeue(job_id, what) <= MAX_REQUEUES

    def unreadable(job_id: str, exc: Exception) -> None:
        log.error("reconcile.unreadable job_id=%s error=%s", job_id, exc)

    for job, documents in iter_jobs(
        jobs, tenant, settled.timestamp(), (now - LOOKBACK).timestamp(), unreadable
    ):
        open_docs = [d for d in documents if d.status not in ("succeeded", "failed")]
        for doc in open_docs:
            if (doc.started_at or job.created_at) > settled:
                continue  # running, or retried, lately
            args = (job.id, doc.attachment)
            if (PRODUCE_DOCUMENT, args) in pending or (PRODUCE_BATCH_DOCUMENT, args) in pending:
                continue
            if not requeue(job.id, doc.attachment):
                failed = msgspec.structs.replace(doc, status="failed", finished_at=now, error=_LOST)
                jobs.put_document(job.id, failed)
                done.append(Reconciled("gave_up", job.id, doc.attachment))
                continue
            if job.batch_id:
                enqueuer.enqueue_batch_document(job.id, doc.attachment)
            else:
                enqueuer.enqueue_document(job.id, doc.attachment)
            done.append(Reconciled("document", job.id, doc.attachment))
        if open_docs:
            continue
        finished = job_finished_at(documents)
        if finished is not None and finished > settled:
            continue  # the last worker may be claiming the finishing right now
        if (FINISH_JOB, (job.id,)) in pending:
            continue  # the finishing runs (and enqueues its deliveries) itself
        done += _finishing(jobs, enqueuer, job, documents, pending, requeue)
    for item in done:
        log.warning("reconcile.%s job_id=%s what=%s", item.action, item.job_id, item.what)
    return done


def _finishing(
    jobs: ReconcilerJobs,
    enqueuer: Enqueuer,
    job: JobRecord,
    documents: list[DocumentRecord],
    pending: set[tuple[str, tuple[str, ...]]],
    requeue: Callable[[str, str], bool],
) -> list[Reconciled]:
    job_id = job.id
    if jobs.claim_finish(job_id):  # nobody had: the last document's finishing was lost
        enqueuer.enqueue_finish(job_id)
        return [Reconciled("finish", job_id, "finish")]
    delivery = jobs.get_delivery(job_id)
    notes: dict[tuple[str, str], NotificationRecord] = {
        (n.channel, n.target): n for n in delivery.notifications
    }
    targets = [("email", e) for e in job.notify_emails]
    targets += [("webhook", job.webhook_url)] if job.webhook_url else []
    unbundled = delivery.bundle is None and any(d.status == "succeeded" for d in documents)
    if unbundled or any(t not in notes for t in targets):
        if not requeue(job_id, "finish"):
            return [Reconciled("gave_up", job_id, "finish")]
        enqueuer.enqueue_finish(job_id)
        return [Reconciled("finish", job_id, "finish")]
    done = []
    for (channel, target), note in notes.items():
        if note.status != "queued" or (DELIVER, (job_id, channel, target)) in pending:
            continue
        if not requeue(job_id, f"{channel}:{target}"):
            failed = msgspec.structs.replace(note, status="failed", last_error="job.lost")
            jobs.put_notification(job_id, failed)
            done.append(Reconciled("gave_up", job_id, channel))
            continue
        enqueuer.enqueue_delivery(job_id, channel, target)
        done.append(Reconciled("deliver", job_id, channel))
    return done


def take_turn(redis: Any, holder: str, ttl_s: int, name: str = "docgen:reconciler") -> bool:
    """True for one caller per `ttl_s` across all workers: whose turn it is to reconcile.

    A lease that expires rather than a lock that is released: a worker killed mid-pass blocks
    nobody for longer than one interval, and two passes never overlap while passes are shorter
    than the interval (they are: one HGETALL per recent job).
    """
    with redis_errors():
        return bool(redis.set(name, holder, nx=True, ex=max(1, ttl_s)))
