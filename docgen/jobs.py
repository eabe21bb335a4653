"""Job records: what was asked, and how each document is getting on.

A job is one hash in Redis: field `meta` (written once by the API) and one `doc:{attachment}`
field per document (written only by the worker doing it), so concurrent workers never overwrite
each other. The job's status is derived from its documents, never stored.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Callable, Iterator, Sequence
from typing import Literal, Protocol

import msgspec

from docgen.errors import DocgenError, FieldProblem
from docgen.indicators import Indicators
from docgen.jobevents import events_channel
from docgen.schema import AttachmentId

__all__ = [
    "BundleRecord",
    "Delivery",
    "DocumentRecord",
    "ErrorInfo",
    "JobRecord",
    "JobStore",
    "MemoryJobStore",
    "NotificationRecord",
    "RedisJobStore",
    "job_finished_at",
    "job_status",
    "redis_errors",
    "utcnow",
]

DocumentStatus = Literal["queued", "running", "succeeded", "failed"]
JobStatus = Literal["queued", "running", "succeeded", "partial", "failed"]


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(microsecond=0)


class ErrorInfo(msgspec.Struct, frozen=True):
    code: str
    message: str
    message_en: str


class DocumentRecord(msgspec.Struct, frozen=True):
    attachment: AttachmentId
    status: DocumentStatus = "queued"
    version: int | None = None
    reused: bool = False
    pages: int | None = None
    pdf_key: str | None = None
    docx_key: str | None = None
    xlsx_key: str | None = None  # 附件3 only
    error: ErrorInfo | None = None
    attempts: int = 0
    started_at: dt.datetime | None = None
    finished_at: dt.datetime | None = None


class JobRecord(msgspec.Struct, frozen=True):
    id: str
    tenant: str
    community_id: str
    year: int
    created_at: dt.datetime
    input_key: str  # the stored request body (object storage)
    attachments: tuple[AttachmentId, ...]
    # Found when the request was accepted and kept with the record rather than recomputed from
    # the stored input on each read: `GET /v1/jobs/{id}` then needs no S3 round trip, and the
    # figures stay those of the request as accepted (the glyph warnings depend on the fonts
    # installed at that moment). Both are small: warnings are capped, indicators a few hundred
    # bytes. The defaults keep records written before them readable.
    warnings: tuple[FieldProblem, ...] = ()
    indicators: Indicators | None = None
    # Who is told when the job finishes (the request's `notify`).
    notify_emails: tuple[str, ...] = ()
    webhook_url: str | None = None
    # A job made by a batch: its documents go to the low-priority queue; `force` makes a new
    # version even when nothing changed.
    batch_id: str | None = None
    force: bool = False
    # What people call the community, for the download page (no S3 read on each view). Empty on
    # records written before it: the page then reads the stored input.
    community_name: str = ""


NotificationStatus = Literal["queued", "sent", "failed"]


class NotificationRecord(msgspec.Struct, frozen=True):
    """One recipient's delivery: written only by the worker delivering to that recipient."""

    channel: Literal["email", "webhook"]
    target: str
    status: NotificationStatus = "queued"
    attempts: int = 0
    last_error: str | None = None
    sent_at: dt.datetime | None = None


class BundleRecord(msgspec.Struct, frozen=True):
    """The job's bundle: one PDF of every rendered attachment, one ZIP of every file."""

    pdf_key: str
    zip_key: str
    attachments: tuple[AttachmentId, ...]
    # Bytes, shown on the download buttons; None on records written before they were kept.
    pdf_size: int | None = None
    zip_size: int | None = None


class Delivery(msgspec.Struct, frozen=True):
    bundle: BundleRecord | None
    notifications: list[NotificationRecord]


def job_status(documents: list[DocumentRecord]) -> JobStatus:
    statuses = {d.status for d in documents}
    if statuses <= {"queued"}:
        return "queued"
    if statuses == {"succeeded"}:
        return "succeeded"
    if statuses == {"failed"}:
        return "failed"
    if statuses == {"succeeded", "failed"}:
        return "partial"
    return "running"


def job_finished_at(documents: list[DocumentRecord]) -> dt.datetime | None:
    if any(d.status not in ("succeeded", "failed") for d in documents):
        return None
    return max((d.finished_at for d in documents if d.finished_at), default=None)


class JobStore(Protocol):
    def create(self, job: JobRecord) -> None: ...
    def get(self, job_id: str) -> tuple[JobRecord, list[DocumentRecord]] | None: ...

    def get_many(
        self, job_ids: Sequence[str]
    ) -> list[tuple[JobRecord, list[DocumentRecord]] | None]:
        """`get` of each, in one round trip (the open-jobs cap reads hundreds at once)."""
        ...

    def put_document(self, job_id: str, document: DocumentRecord) -> None: ...
    def ping(self) -> None: ...

    def claim_finish(self, job_id: str) -> bool:
        """True for exactly one caller: the one that starts the job's finishing work."""
        ...

    def get_delivery(self, job_id: str) -> Delivery: ...

    def tenant_jobs(
        self, tenant: str, newest: float | None, oldest: float | None, offset: int, count: int
    ) -> list[tuple[str, float]]:
        """The tenant's job ids with their creation times (epoch s), newest first, within
        [`oldest`, `newest`] (open ends when None), skipping `offset`."""
        ...

    def put_bundle(self, job_id: str, bundle: BundleRecord) -> None: ...
    def put_notification(self, job_id: str, notification: NotificationRecord) -> None: ...

    def delete(self, job: JobRecord) -> None:
        """Forget the job: its record and its place in the tenant's list."""
        ...

    def tenants(self) -> list[str]:
        """Every tenant that has jobs."""
        ...


_encoder = msgspec.json.Encoder()
_job_decoder = msgspec.json.Decoder(JobRecord)
_doc_decoder = msgspec.json.Decoder(DocumentRecord)
_note_decoder = msgspec.json.Decoder(NotificationRecord)
_bundle_decoder = msgspec.json.Decoder(BundleRecord)


def _notification_field(channel: str, target: str) -> str:
    return f"notify:{channel}:{target}"


@contextlib.contextmanager
def redis_errors() -> Iterator[None]:
    """Redis failures as a retryable `DocgenError`, so callers need not know the client."""
    import redis

    try:
        yield
    except redis.RedisError as exc:
        raise DocgenError(
            "queue.unavailable",
            "任务队列暂不可用，请稍后重试",
            "The job queue is unavailable; retry later",
            retryable=True,
            detail=repr(exc),
        ) from exc


def _decode_record(raw: dict[bytes, bytes]) -> tuple[JobRecord, list[DocumentRecord]] | None:
    if b"meta" not in raw:
        return None
    job = _job_decoder.decode(raw[b"meta"])
    docs = [_doc_decoder.decode(raw[f"doc:{a}".encode()]) for a in job.attachments]
    return job, docs


class JobPages(Protocol):
    """What reading every job takes (fsck, the reconciler, erasure and retention)."""

    def tenants(self) -> list[str]: ...

    def tenant_jobs(
        self, tenant: str, newest: float | None, oldest: float | None, offset: int, count: int
    ) -> list[tuple[str, float]]: ...

    def get(self, job_id: str) -> tuple[JobRecord, list[DocumentRecord]] | None: ...

    def get_many(
        self, job_ids: Sequence[str]
    ) -> list[tuple[JobRecord, list[DocumentRecord]] | None]: ...


def iter_jobs(
    jobs: JobPages,
    tenant: str | None = None,
    newest: float | None = None,
    oldest: float | None = None,
    unreadable: Callable[[str, Exception], None] | None = None,
) -> Iterator[tuple[JobRecord, list[DocumentRecord]]]:
    """Every recorded job (of `tenant`, created within [`oldest`, `newest`]), 500 a round trip.

    A record that cannot be decoded is passed to `unreadable` (or raised) and skipped.
    """
    page = 500
    for name in [tenant] if tenant else jobs.tenants():
        offset = 0
        while True:
            ids = [job_id for job_id, _ in jobs.tenant_jobs(name, newest, oldest, offset, page)]
            try:
                records = jobs.get_many(ids)
            except (msgspec.DecodeError, KeyError):
                records = [_read_one(jobs, job_id, unreadable) for job_id in ids]
            yield from (found for found in records if found is not None)
            if len(ids) < page:
                break
            offset += page


def _read_one(
    jobs: JobPages, job_id: str, unreadable: Callable[[str, Exception], None] | None
) -> tuple[JobRecord, list[DocumentRecord]] | None:
    """One record of a page that had an unreadable one: that one goes to `unreadable`."""
    try:
        return jobs.get(job_id)
    except (msgspec.DecodeError, KeyError) as exc:
        if unreadable is None:
            raise
        unreadable(job_id, exc)
        return None


class RedisJobStore:
    def __init__(self, redis: object, prefix: str = "docgen") -> None:
        self._redis = redis
        self._prefix = prefix

    def _key(self, job_id: str) -> str:
        return f"{self._prefix}:job:{job_id}"

    def _index(self, tenant: str) -> str:
        return f"{self._prefix}:tenant:{tenant}:jobs"

    def create(self, job: JobRecord) -> None:
        fields = {"meta": _encoder.encode(job)}
        for attachment in job.attachments:
            fields[f"doc:{attachment}"] = _encoder.encode(DocumentRecord(attachment))
        with redis_errors():
            # One transaction: a job is never listed without its record, nor recorded unlisted.
            pipe = self._redis.pipeline()  # type: ignore[attr-defined]
            pipe.hset(self._key(job.id), mapping=fields)
            # Sorted by creation time: `GET /v1/jobs` pages through it newest first.
            pipe.zadd(self._index(job.tenant), {job.id: job.created_at.timestamp()})
            pipe.execute()

    def tenant_jobs(
        self, tenant: str, newest: float | None, oldest: float | None, offset: int, count: int
    ) -> list[tuple[str, float]]:
        with redis_errors():
            found = self._redis.zrevrangebyscore(  # type: ignore[attr-defined]
                self._index(tenant),
                "+inf" if newest is None else newest,
                "-inf" if oldest is None else oldest,
                start=offset,
                num=count,
                withscores=True,
            )
        return [(member.decode(), float(score)) for member, score in found]

    def get(self, job_id: str) -> tuple[JobRecord, list[DocumentRecord]] | None:
        with redis_errors():
            raw: dict[bytes, bytes] = self._redis.hgetall(self._key(job_id))  # type: ignore[attr-defined]
        return _decode_record(raw)

    def get_many(
        self, job_ids: Sequence[str]
    ) -> list[tuple[JobRecord, list[DocumentRecord]] | None]:
        with redis_errors():
            pipe = self._redis.pipeline(transaction=False)  # type: ignore[attr-defined]
            for job_id in job_ids:
                pipe.hgetall(self._key(job_id))
            return [_decode_record(raw) for raw in pipe.execute()]

    def put_document(self, job_id: str, document: DocumentRecord) -> None:
        self._write_and_announce(job_id, f"doc:{document.attachment}", _encoder.encode(document))

    def _write_and_announce(self, job_id: str, field: str, value: bytes) -> None:
        """Write one field of the job and tell the waiting requests (docgen.jobevents), in one
        transaction: a request woken by the announcement finds the change."""
        with redis_errors():
            pipe = self._redis.pipeline()  # type: ignore[attr-defined]
            pipe.hset(self._key(job_id), field, value)
            pipe.publish(events_channel(self._prefix), job_id)
            pipe.execute()

    def ping(self) -> None:
        with redis_errors():
            self._redis.ping()  # type: ignore[attr-defined]

    def claim_finish(self, job_id: str) -> bool:
        with redis_errors():
            return bool(self._redis.hsetnx(self._key(job_id), "finishing", "1"))  # type: ignore[attr-defined]

    def get_delivery(self, job_id: str) -> Delivery:
        with redis_errors():
            raw: dict[bytes, bytes] = self._redis.hgetall(self._key(job_id))  # type: ignore[attr-defined]
        bundle = _bundle_decoder.decode(raw[b"bundle"]) if b"bundle" in raw else None
        notes = [
            _note_decoder.decode(value)
            for field, value in sorted(raw.items())
            if field.startswith(b"notify:")
        ]
        return Delivery(bundle, notes)

    def put_bundle(self, job_id: str, bundle: BundleRecord) -> None:
        self._write_and_announce(job_id, "bundle", _encoder.encode(bundle))

    def tenants(self) -> list[str]:
        """Every tenant that has made a job (from the per-tenant job indexes)."""
        head, tail = f"{self._prefix}:tenant:", ":jobs"
        with redis_errors():
            keys = self._redis.scan_iter(match=f"{head}*{tail}", count=1000)  # type: ignore[attr-defined]
            return sorted(k.decode()[len(head) : -len(tail)] for k in keys)

    def count_requeue(self, job_id: str, what: str) -> int:
        """Count one re-enqueueing of `what` (an attachment, `finish`, a recipient) for the
        job; the count so far. The reconciler gives up on work that keeps getting lost."""
        with redis_errors():
            return int(self._redis.hincrby(self._key(job_id), f"requeued:{what}", 1))  # type: ignore[attr-defined]

    def put_notification(self, job_id: str, notification: NotificationRecord) -> None:
        field = _notification_field(notification.channel, notification.target)
        with redis_errors():
            self._redis.hset(self._key(job_id), field, _encoder.encode(notification))  # type: ignore[attr-defined]

    def delete(self, job: JobRecord) -> None:
        with redis_errors():
            pipe = self._redis.pipeline()  # type: ignore[attr-defined]
            pipe.delete(self._key(job.id))
            pipe.zrem(self._index(job.tenant), job.id)
            pipe.execute()


class MemoryJobStore:
    """In-memory store for unit tests of logic."""

    def __init__(self) -> None:
        self.jobs: dict[str, JobRecord] = {}
        self.documents: dict[tuple[str, str], DocumentRecord] = {}
        self.finishing: set[str] = set()
        self.bundles: dict[str, BundleRecord] = {}
        self.notifications: dict[str, dict[str, NotificationRecord]] = {}
        self.requeued: dict[tuple[str, str], int] = {}

    def create(self, job: JobRecord) -> None:
        self.jobs[job.id] = job
        for attachment in job.attachments:
            self.documents[(job.id, attachment)] = DocumentRecord(attachment)

    def tenant_jobs(
        self, tenant: str, newest: float | None, oldest: float | None, offset: int, count: int
    ) -> list[tuple[str, float]]:
        # Redis orders equal scores by member; newest first reverses both.
        found = sorted(
            ((j.id, j.created_at.timestamp()) for j in self.jobs.values() if j.tenant == tenant),
            key=lambda pair: (pair[1], pair[0]),
            reverse=True,
        )
        return [
            (i, t)
            for i, t in found
            if (newest is None or t <= newest) and (oldest is None or t >= oldest)
        ][offset : offset + count]

    def get(self, job_id: str) -> tuple[JobRecord, list[DocumentRecord]] | None:
        job = self.jobs.get(job_id)
        if job is None:
            return None
        return job, [self.documents[(job_id, a)] for a in job.attachments]

    def get_many(
        self, job_ids: Sequence[str]
    ) -> list[tuple[JobRecord, list[DocumentRecord]] | None]:
        return [self.get(job_id) for job_id in job_ids]

    def put_document(self, job_id: str, document: DocumentRecord) -> None:
        self.documents[(job_id, document.attachment)] = document

    def ping(self) -> None:
        return None

    def claim_finish(self, job_id: str) -> bool:
        if job_id in self.finishing:
            return False
        self.finishing.add(job_id)
        return True

    def get_delivery(self, job_id: str) -> Delivery:
        notes = self.notifications.get(job_id, {})
        return Delivery(self.bundles.get(job_id), [notes[k] for k in sorted(notes)])

    def put_bundle(self, job_id: str, bundle: BundleRecord) -> None:
        self.bundles[job_id] = bundle

    def tenants(self) -> list[str]:
        return sorted({j.tenant for j in self.jobs.values()})

    def count_requeue(self, job_id: str, what: str) -> int:
        self.requeued[(job_id, what)] = self.requeued.get((job_id, what), 0) + 1
        return self.requeued[(job_id, what)]

    def put_notification(self, job_id: str, notification: NotificationRecord) -> None:
        field = _notification_field(notification.channel, notification.target)
        self.notifications.setdefault(job_id, {})[field] = notification

    def delete(self, job: JobRecord) -> None:
        self.jobs.pop(job.id, None)
        for attachment in job.attachments:
            self.documents.pop((job.id, attachment), None)
        self.finishing.discard(job.id)
        self.bundles.pop(job.id, None)
        self.notifications.pop(job.id, None)
