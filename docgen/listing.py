"""`GET /v1/jobs`: a tenant's jobs, newest first, filtered, in pages with an opaque cursor.

The cursor is the (creation time, job id) of the last job looked at, so a page is stable while
new jobs arrive (they sort before it). Filters other than `since` are applied to the records, so
one page examines at most `MAX_EXAMINED` jobs and may come back short with a cursor to go on.
"""

from __future__ import annotations

import datetime as dt

import msgspec

from docgen.jobs import DocumentRecord, JobRecord, JobStatus, JobStore, job_status

__all__ = ["MAX_EXAMINED", "JobPage", "JobQuery", "list_jobs"]

MAX_EXAMINED = 1000  # records read for one page: bounds the time of a narrow filter
_CHUNK = 100


class JobQuery(msgspec.Struct, frozen=True):
    community_id: str | None = None
    year: int | None = None
    status: JobStatus | None = None
    since: dt.datetime | None = None
    limit: int = 50
    cursor: str | None = None


class JobPage(msgspec.Struct, frozen=True):
    jobs: list[tuple[JobRecord, list[DocumentRecord]]]
    next_cursor: str | None


def _decode_cursor(cursor: str | None) -> tuple[float | None, str]:
    if not cursor:
        return None, ""
    moment, _, job_id = cursor.partition("~")
    try:
        return float(moment), job_id
    except ValueError:
        raise ValueError("cursor") from None


def list_jobs(jobs: JobStore, tenant: str, query: JobQuery) -> JobPage:
    """Raises ValueError on a cursor this function did not make."""
    newest, after_id = _decode_cursor(query.cursor)
    oldest = query.since.timestamp() if query.since else None
    found: list[tuple[JobRecord, list[DocumentRecord]]] = []
    offset = examined = 0
    while True:
        chunk = jobs.tenant_jobs(tenant, newest, oldest, offset, _CHUNK)
        if not chunk:
            return JobPage(found, None)
        offset += len(chunk)
        for job_id, moment in chunk:
            # Equal times come in descending id order: skip those the last page already had.
            if newest is not None and moment == newest and job_id >= after_id:
                continue
            examined += 1
            record = jobs.get(job_id)
            if record is not None and _matches(record, query):
                found.append(record)
            if len(found) == query.limit or examined == MAX_EXAMINED:
                return JobPage(found, f"{moment!r}~{job_id}")


def _matches(record: tuple[JobRecord, list[DocumentRecord]], query: JobQuery) -> bool:
    job, documents = record
    return (
        (query.community_id is None or job.community_id == query.community_id)
        and (query.year is None or job.year == query.year)
        and (query.status is None or job_status(documents) == query.status)
    )
