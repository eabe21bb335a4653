"""Per-tenant state in a real Redis: the job index `GET /v1/jobs` pages through, and the limits."""

from __future__ import annotations

import datetime as dt

import pytest
import redis

from docgen.jobs import DocumentRecord, JobRecord, RedisJobStore
from docgen.limits import RedisLimitStore, TenantLimits, admit_job
from docgen.listing import JobQuery, list_jobs
from docgen.settings import LimitSettings

pytestmark = pytest.mark.integration


def _job(job_id: str, tenant: str, second: int) -> JobRecord:
    return JobRecord(
        job_id,
        tenant,
        "c1",
        2026,
        dt.datetime(2026, 5, 1, 8, 0, second, tzinfo=dt.UTC),
        f"{tenant}/inputs/x.json",
        ("application",),
    )


def test_a_tenants_jobs_are_listed_newest_first_in_pages_even_with_equal_times(
    redis_url: str,
) -> None:
    jobs = RedisJobStore(redis.Redis.from_url(redis_url), prefix="it-list")
    # Three jobs in one second: the cursor must not skip or repeat any of them.
    for n, second in enumerate((1, 2, 2, 2, 3)):
        jobs.create(_job(f"a{n}", "ta", second))
    jobs.create(_job("b0", "tb", 2))
    seen, cursor = [], None
    while True:
        page = list_jobs(jobs, "ta", JobQuery(limit=2, cursor=cursor))
        seen += [job.id for job, _ in page.jobs]
        if page.next_cursor is None:
            break
        cursor = page.next_cursor
    assert seen == ["a4", "a3", "a2", "a1", "a0"]
    since = dt.datetime(2026, 5, 1, 8, 0, 2, tzinfo=dt.UTC)
    assert len(list_jobs(jobs, "ta", JobQuery(since=since)).jobs) == 4


def test_the_rate_and_the_open_jobs_are_counted_per_tenant_in_redis(redis_url: str) -> None:
    client = redis.Redis.from_url(redis_url)
    jobs, store = RedisJobStore(client, prefix="it-limits"), RedisLimitStore(client, "it-limits")
    limits = LimitSettings(jobs_per_minute=2, max_open_jobs=1)
    admit_job(limits, store, jobs, "ta", clock=lambda: 60.0)
    jobs.create(_job("open1", "ta", 1))
    store.add_open("ta", "open1")
    with pytest.raises(TenantLimits) as full:
        admit_job(limits, store, jobs, "ta", clock=lambda: 61.0)
    assert full.value.error.code == "jobs.too_many_open"
    with pytest.raises(TenantLimits) as fast:
        admit_job(limits, store, jobs, "ta", clock=lambda: 62.0)
    assert fast.value.error.code == "rate.limited" and fast.value.retry_after_s == 58
    admit_job(limits, store, jobs, "tb", clock=lambda: 62.0)  # another tenant is unaffected
    jobs.put_document("open1", DocumentRecord("application", "failed"))
    admit_job(limits, store, jobs, "ta", clock=lambda: 120.0)  # a new minute, the job finished
    assert store.open_jobs("ta") == []
