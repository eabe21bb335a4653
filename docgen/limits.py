"""Per-tenant limits on job creation: a rate (fixed minute window) and a cap on open jobs.

Both live in Redis so that every API replica counts together. A fixed window rather than a token
bucket: one `INCR` + `EXPIRE` per request, and a burst of at most twice the rate across a window
edge is harmless here (the cap on open jobs bounds the queue anyway).

Open jobs are a set per tenant that the API adds to and prunes itself (a job leaves it once its
documents are all finished), so the workers need not know about limits, and a job whose worker
died is still pruned once it finishes on redelivery.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, Protocol

from docgen.errors import DocgenError
from docgen.jobs import JobStore, job_status, redis_errors
from docgen.settings import LimitSettings

__all__ = [
    "WINDOW_S",
    "LimitStore",
    "MemoryLimitStore",
    "RedisLimitStore",
    "TenantLimits",
    "admit_job",
]

WINDOW_S = 60


class LimitStore(Protocol):
    def count_request(self, tenant: str, window: int) -> int:
        """Count one request in the tenant's window; the count so far, this one included."""
        ...

    def open_jobs(self, tenant: str) -> list[str]: ...
    def add_open(self, tenant: str, job_id: str) -> None: ...
    def drop_open(self, tenant: str, job_ids: list[str]) -> None: ...


class TenantLimits(Exception):
    """A refusal with the seconds after which the same request may succeed."""

    def __init__(self, error: DocgenError, retry_after_s: int) -> None:
        super().__init__(error.code)
        self.error = error
        self.retry_after_s = retry_after_s


def admit_job(
    limits: LimitSettings,
    store: LimitStore,
    jobs: JobStore,
    tenant: str,
    clock: Callable[[], float] = time.time,
) -> None:
    """Raise `TenantLimits` when the tenant may not make a job now; count it when it may."""
    now = clock()
    window = int(now // WINDOW_S)
    if store.count_request(tenant, window) > limits.jobs_per_minute:
        raise TenantLimits(
            DocgenError(
                "rate.limited",
                f"提交过于频繁：每个平台每分钟最多 {limits.jobs_per_minute} 个任务",
                f"Too many jobs: at most {limits.jobs_per_minute} a minute per tenant",
                retryable=True,
            ),
            max(1, int((window + 1) * WINDOW_S - now + 0.999)),
        )
    open_ids = store.open_jobs(tenant)
    if len(open_ids) < limits.max_open_jobs:
        return
    records = jobs.get_many(open_ids)
    finished = [
        job_id
        for job_id, found in zip(open_ids, records, strict=True)
        if found is None or job_status(found[1]) in ("succeeded", "partial", "failed")
    ]
    store.drop_open(tenant, finished)
    if len(open_ids) - len(finished) >= limits.max_open_jobs:
        raise TenantLimits(
            DocgenError(
                "jobs.too_many_open",
                f"排队中的任务过多：每个平台最多 {limits.max_open_jobs} 个未完成的任务",
                f"Too many unfinished jobs: at most {limits.max_open_jobs} per tenant",
                retryable=True,
            ),
            # A document takes seconds; half a minute lets a few finish.
            30,
        )


class RedisLimitStore:
    def __init__(self, redis: Any, prefix: str = "docgen") -> None:
        self._redis = redis
        self._prefix = prefix

    def count_request(self, tenant: str, window: int) -> int:
        key = f"{self._prefix}:rate:{tenant}:{window}"
        with redis_errors():
            pipe = self._redis.pipeline()
            pipe.incr(key)
            pipe.expire(key, WINDOW_S * 2)
            count, _ = pipe.execute()
        return int(count)

    def _open_key(self, tenant: str) -> str:
        return f"{self._prefix}:tenant:{tenant}:open"

    def open_jobs(self, tenant: str) -> list[str]:
        with redis_errors():
            return [m.decode() for m in self._redis.smembers(self._open_key(tenant))]

    def add_open(self, tenant: str, job_id: str) -> None:
        with redis_errors():
            self._redis.sadd(self._open_key(tenant), job_id)

    def drop_open(self, tenant: str, job_ids: list[str]) -> None:
        if job_ids:
            with redis_errors():
                self._redis.srem(self._open_key(tenant), *job_ids)


class MemoryLimitStore:
    """In-memory store for unit tests of logic."""

    def __init__(self) -> None:
        self.counts: dict[tuple[str, int], int] = {}
        self.open: dict[str, set[str]] = {}

    def count_request(self, tenant: str, window: int) -> int:
        self.counts[(tenant, window)] = self.counts.get((tenant, window), 0) + 1
        return self.counts[(tenant, window)]

    def open_jobs(self, tenant: str) -> list[str]:
        return sorted(self.open.get(tenant, set()))

    def add_open(self, tenant: str, job_id: str) -> None:
        self.open.setdefault(tenant, set()).add(job_id)

    def drop_open(self, tenant: str, job_ids: list[str]) -> None:
        self.open.get(tenant, set()).difference_update(job_ids)
