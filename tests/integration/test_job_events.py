"""Announcements of jobs' changes over a real Redis: what wakes `GET /v1/jobs/{id}?wait=`."""

from __future__ import annotations

import asyncio
import datetime as dt
from pathlib import Path

import pytest
import redis

from docgen.devstack import start_redis
from docgen.jobevents import JobEvents
from docgen.jobs import BundleRecord, DocumentRecord, JobRecord, RedisJobStore

pytestmark = pytest.mark.integration


def _job(store: RedisJobStore, job_id: str) -> None:
    store.create(
        JobRecord(
            id=job_id,
            tenant="t",
            community_id="c",
            year=2026,
            created_at=dt.datetime.now(dt.UTC),
            input_key="k",
            attachments=("application",),
        )
    )


async def _announced(events: JobEvents, job_id: str, change: object) -> bool:
    """Whether a waiter on `job_id` is woken while `change` (a write to Redis) runs."""
    waiter = asyncio.create_task(events.wait(job_id, 30))
    await asyncio.sleep(0)  # the waiter is registered before the write
    await asyncio.to_thread(change)  # type: ignore[arg-type]
    return await waiter


def test_writing_a_document_or_a_bundle_wakes_that_jobs_waiters_only(redis_url: str) -> None:
    store = RedisJobStore(redis.Redis.from_url(redis_url))
    _job(store, "ev-1")
    _job(store, "ev-2")

    async def scenario() -> None:
        events = JobEvents(redis_url)
        listening = asyncio.create_task(events.listen())
        await asyncio.wait_for(events.subscribed.wait(), 10)
        running = DocumentRecord("application", "running")
        assert await _announced(events, "ev-1", lambda: store.put_document("ev-1", running))
        bundle = BundleRecord("b.pdf", "b.zip", ("application",), 1, 1)
        assert await _announced(events, "ev-1", lambda: store.put_bundle("ev-1", bundle))
        # Another job's change wakes nobody here.
        other = asyncio.create_task(events.wait("ev-1", 0.3))
        await asyncio.sleep(0)
        await asyncio.to_thread(store.put_document, "ev-2", running)
        assert await other is False
        listening.cancel()

    asyncio.run(scenario())
    # The write itself happened, with its announcement.
    found = store.get("ev-1")
    assert found is not None and found[1][0].status == "running"


def test_the_subscription_comes_back_after_redis_restarts(tmp_path: Path) -> None:
    process, url = start_redis(tmp_path / "first")
    port = int(url.rsplit(":", 1)[1].split("/")[0])

    async def scenario() -> None:
        nonlocal process
        events = JobEvents(url)
        listening = asyncio.create_task(events.listen())
        await asyncio.wait_for(events.subscribed.wait(), 10)
        process.stop()
        while events.subscribed.is_set():  # the listener notices the lost connection
            await asyncio.sleep(0.02)
        process, _ = start_redis(tmp_path / "second", port=port)
        await asyncio.wait_for(events.subscribed.wait(), 30)
        store = RedisJobStore(redis.Redis.from_url(url))
        _job(store, "ev-3")
        running = DocumentRecord("application", "running")
        assert await _announced(events, "ev-3", lambda: store.put_document("ev-3", running))
        listening.cancel()

    try:
        asyncio.run(scenario())
    finally:
        process.stop()
