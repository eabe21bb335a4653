"""Year-end batches: regenerate many communities' documents from their stored inputs.

A batch is a set of ordinary jobs (one per community), made from each community's latest stored
input and the current templates, whose documents go to the low-priority `batch` queue. So a
batch inherits everything jobs do: versions reused when nothing changed, idempotent retries, the
bundle and (when asked) the submitters' emails. Job ids are derived from the batch id and the
community, so planning twice (a retried request) makes no second job.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from typing import Literal, Protocol

import msgspec

from docgen.jobs import DocumentRecord, JobRecord, JobStore, NotificationRecord, redis_errors
from docgen.objectstore import ObjectStore
from docgen.schema import ATTACHMENT_IDS, AttachmentId, JobRequest
from docgen.storage import LatestInput, latest_inputs

__all__ = [
    "BatchFilter",
    "BatchRecord",
    "BatchRequest",
    "BatchStatus",
    "BatchStore",
    "MemoryBatchStore",
    "RedisBatchStore",
    "batch_complete",
    "batch_failures",
    "batch_job_id",
    "batch_status",
    "plan_batch",
]


class BatchFilter(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    community_ids: list[str] = []
    provinces: list[str] = []  # matched against community.recommending_province
    attachments: list[AttachmentId] = []


class BatchRequest(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """`POST /v1/batches`."""

    year: int
    filter: BatchFilter = BatchFilter()
    reason: str = ""
    force: bool = False  # a new version even where input and template are unchanged
    notify_submitters: bool = False
    webhook_url: str | None = None
    tenant: str | None = None  # whose stored inputs; the admin key's own tenant when absent


class BatchRecord(msgspec.Struct, frozen=True):
    id: str
    tenant: str
    request: BatchRequest
    created_at: dt.datetime
    job_ids: tuple[str, ...]


class BatchStatus(msgspec.Struct, frozen=True):
    id: str
    year: int
    reason: str
    state: Literal["running", "finished", "cancelled"]
    created_at: dt.datetime
    communities: int
    total: int  # documents
    done: int  # new versions made
    reused: int  # unchanged: the stored version stands
    failed: int
    running: int
    queued: int
    eta_s: float | None  # from the pace so far
    notifications: list[NotificationRecord]


class BatchStore(Protocol):
    def create(self, batch: BatchRecord) -> None: ...
    def get(self, batch_id: str) -> BatchRecord | None: ...
    def cancel(self, batch_id: str) -> None: ...
    def cancelled(self, batch_id: str) -> bool: ...
    def claim_finish(self, batch_id: str) -> bool: ...
    def notifications(self, batch_id: str) -> list[NotificationRecord]: ...
    def put_notification(self, batch_id: str, note: NotificationRecord) -> None: ...


def batch_job_id(batch_id: str, community_id: str, input_key: str) -> str:
    """Derived, so that planning twice makes no second job."""
    digest = hashlib.sha256(input_key.encode()).hexdigest()[:8]
    return f"{batch_id}-{community_id}-{digest}"


def _selected(inputs: list[LatestInput], request: BatchRequest) -> list[LatestInput]:
    wanted = set(request.filter.community_ids)
    provinces = set(request.filter.provinces)
    return [
        i
        for i in inputs
        if (not wanted or i.community_id in wanted)
        and (not provinces or i.recommending_province in provinces)
    ]


def plan_batch(
    store: ObjectStore,
    jobs: JobStore,
    batches: BatchStore,
    batch_id: str,
    tenant: str,
    request: BatchRequest,
    now: dt.datetime,
) -> BatchRecord:
    """Make the batch and its jobs (not yet enqueued); a job that exists already is kept.

    One job per community and stored input: each attachment is regenerated from the input that
    last carried it (usually one input holds them all).
    """
    groups: dict[tuple[str, str], list[LatestInput]] = {}
    for latest in _selected(latest_inputs(store, tenant, request.year), request):
        if request.filter.attachments and latest.attachment not in request.filter.attachments:
            continue
        groups.setdefault((latest.community_id, latest.input_key), []).append(latest)
    made = []
    for (community_id, key), carried in sorted(groups.items()):
        raw = store.get(key)
        if raw is None:
            continue  # an input expired by retention: nothing to regenerate from
        stored = msgspec.json.decode(raw, type=JobRequest)
        wanted = {i.attachment for i in carried}
        attachments = tuple(a for a in ATTACHMENT_IDS if a in wanted)
        job_id = batch_job_id(batch_id, community_id, key)
        if jobs.get(job_id) is None:
            notify = stored.notify if request.notify_submitters else None
            jobs.create(
                JobRecord(
                    id=job_id,
                    tenant=tenant,
                    community_id=community_id,
                    year=request.year,
                    created_at=now,
                    input_key=key,
                    attachments=attachments,
                    notify_emails=tuple(notify.emails) if notify else (),
                    batch_id=batch_id,
                    force=request.force,
                    community_name=stored.community.name,
                )
            )
        made.append(job_id)
    batch = BatchRecord(batch_id, tenant, request, now, tuple(made))
    batches.create(batch)
    return batch


def _documents(jobs: JobStore, batch: BatchRecord) -> list[tuple[JobRecord, list[DocumentRecord]]]:
    found = []
    for job_id in batch.job_ids:
        job = jobs.get(job_id)
        if job is not None:
            found.append(job)
    return found


def batch_status(
    jobs: JobStore, batches: BatchStore, batch: BatchRecord, now: dt.datetime
) -> BatchStatus:
    documents = [d for _, docs in _documents(jobs, batch) for d in docs]
    count = {s: 0 for s in ("done", "reused", "failed", "running", "queued")}
    for d in documents:
        if d.status == "succeeded":
            count["reused" if d.reused else "done"] += 1
        else:
            count[d.status] += 1
    finished = count["done"] + count["reused"] + count["failed"]
    remaining = len(documents) - finished
    elapsed = (now - batch.created_at).total_seconds()
    eta = (
        elapsed / finished * remaining
        if finished and remaining
        else (0.0 if not remaining else None)
    )
    cancelled = batches.cancelled(batch.id)
    state: Literal["running", "finished", "cancelled"] = (
        "cancelled" if cancelled else "finished" if not remaining else "running"
    )
    return BatchStatus(
        id=batch.id,
        year=batch.request.year,
        reason=batch.request.reason,
        state=state,
        created_at=batch.created_at,
        communities=len(batch.job_ids),
        total=len(documents),
        eta_s=None if cancelled else eta,
        notifications=batches.notifications(batch.id),
        **count,
    )


def batch_complete(jobs: JobStore, batch: BatchRecord) -> bool:
    """Every document of every job of the batch has finished (succeeded or failed)."""
    return all(
        d.status in ("succeeded", "failed") for _, docs in _documents(jobs, batch) for d in docs
    )


def batch_failures(jobs: JobStore, batch: BatchRecord) -> list[dict[str, str]]:
    """One row per failed document: community, attachment, code and reason."""
    rows = []
    for job, docs in _documents(jobs, batch):
        for d in docs:
            if d.status == "failed":
                rows.append(
                    {
                        "community_id": job.community_id,
                        "attachment": d.attachment,
                        "code": d.error.code if d.error else "",
                        "message": d.error.message if d.error else "",
                        "message_en": d.error.message_en if d.error else "",
                    }
                )
    return rows


_encoder = msgspec.json.Encoder()
_batch_decoder = msgspec.json.Decoder(BatchRecord)
_note_decoder = msgspec.json.Decoder(NotificationRecord)


class RedisBatchStore:
    def __init__(self, redis: object, prefix: str = "docgen") -> None:
        self._redis = redis
        self._prefix = prefix

    def _key(self, batch_id: str) -> str:
        return f"{self._prefix}:batch:{batch_id}"

    def create(self, batch: BatchRecord) -> None:
        with redis_errors():
            self._redis.hset(self._key(batch.id), "meta", _encoder.encode(batch))  # type: ignore[attr-defined]

    def get(self, batch_id: str) -> BatchRecord | None:
        with redis_errors():
            raw = self._redis.hget(self._key(batch_id), "meta")  # type: ignore[attr-defined]
        return _batch_decoder.decode(raw) if raw else None

    def cancel(self, batch_id: str) -> None:
        with redis_errors():
            self._redis.hset(self._key(batch_id), "cancelled", "1")  # type: ignore[attr-defined]

    def cancelled(self, batch_id: str) -> bool:
        with redis_errors():
            return bool(self._redis.hexists(self._key(batch_id), "cancelled"))  # type: ignore[attr-defined]

    def claim_finish(self, batch_id: str) -> bool:
        with redis_errors():
            return bool(self._redis.hsetnx(self._key(batch_id), "finishing", "1"))  # type: ignore[attr-defined]

    def notifications(self, batch_id: str) -> list[NotificationRecord]:
        with redis_errors():
            raw = self._redis.hget(self._key(batch_id), "notify")  # type: ignore[attr-defined]
        return [_note_decoder.decode(raw)] if raw else []

    def put_notification(self, batch_id: str, note: NotificationRecord) -> None:
        with redis_errors():
            self._redis.hset(self._key(batch_id), "notify", _encoder.encode(note))  # type: ignore[attr-defined]


class MemoryBatchStore:
    def __init__(self) -> None:
        self.batches: dict[str, BatchRecord] = {}
        self.cancelled_ids: set[str] = set()
        self.finishing: set[str] = set()
        self.notes: dict[str, NotificationRecord] = {}

    def create(self, batch: BatchRecord) -> None:
        self.batches[batch.id] = batch

    def get(self, batch_id: str) -> BatchRecord | None:
        return self.batches.get(batch_id)

    def cancel(self, batch_id: str) -> None:
        self.cancelled_ids.add(batch_id)

    def cancelled(self, batch_id: str) -> bool:
        return batch_id in self.cancelled_ids

    def claim_finish(self, batch_id: str) -> bool:
        if batch_id in self.finishing:
            return False
        self.finishing.add(batch_id)
        return True

    def notifications(self, batch_id: str) -> list[NotificationRecord]:
        return [self.notes[batch_id]] if batch_id in self.notes else []

    def put_notification(self, batch_id: str, note: NotificationRecord) -> None:
        self.notes[batch_id] = note
