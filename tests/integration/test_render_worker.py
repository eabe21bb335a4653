"""The render worker's consumers over a real Redis: its queue is polled often (a person's job
starts at once), its delay queue (retries only) at dramatiq's pace, and retries still arrive."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import dramatiq
import pytest
import redis
from dramatiq.brokers.redis import RedisBroker

from docgen.processes import wait_until
from workers.main import DELAY_POLL_MS, RENDER_POLL_MS, RenderWorker

pytestmark = pytest.mark.integration


@pytest.fixture
def broker(redis_url: str) -> Iterator[RedisBroker]:
    client = redis.Redis.from_url(redis_url)
    client.flushdb()
    broker = RedisBroker(url=redis_url)
    yield broker
    broker.close()
    client.flushdb()
    client.close()


def test_the_delay_queue_is_polled_less_often_and_a_delayed_message_still_runs(
    broker: RedisBroker,
) -> None:
    ran = threading.Event()

    @dramatiq.actor(broker=broker, queue_name="render")
    def render() -> None:
        ran.set()

    worker = RenderWorker(
        broker, queues={"render"}, worker_threads=1, worker_timeout=RENDER_POLL_MS
    )
    worker.start()
    try:
        polls = {name: c.worker_timeout for name, c in worker.consumers.items()}
        assert polls == {"render": RENDER_POLL_MS, "render.DQ": DELAY_POLL_MS}
        # The worker's own threads keep the short timeout: only the delay consumer was changed.
        assert worker.worker_timeout == RENDER_POLL_MS

        # A retry goes through the delay queue, as dramatiq's Retries middleware sends it.
        render.send_with_options(delay=100)
        wait_until(ran.is_set, 3 * DELAY_POLL_MS / 1000 + 5, what="the delayed message")
    finally:
        worker.stop()
