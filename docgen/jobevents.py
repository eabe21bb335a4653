"""A job's changes, announced on one Redis channel, so that a request can wait for them.

`RedisJobStore` publishes a job's id, in the transaction that writes the change, whenever a
document's record or the job's bundle is written. An API process keeps one subscription
(`JobEvents.listen`) and wakes the requests waiting on that job (`GET /v1/jobs/{id}?wait=`):
a client learns of a finished document at once, with one request instead of a poll every few
milliseconds (20 ms polling cost the API more CPU than rendering two attachments:
docs/BENCHMARKS.md §4).

Pub/sub keeps nothing: an announcement made while the subscription is down is lost. So a waiter
does not rely on it alone; the caller looks at the job again after at most `RECHECK_S`.
"""

from __future__ import annotations

import asyncio
import logging

import redis.asyncio as aioredis
from redis.exceptions import RedisError

__all__ = ["RECHECK_S", "JobEvents", "events_channel"]

log = logging.getLogger("docgen.jobevents")

RECHECK_S = 1.0  # a waiter looks at the job again this often even without an announcement
_RECONNECT_S = 1.0


def events_channel(prefix: str = "docgen") -> str:
    return f"{prefix}:job-events"


class JobEvents:
    """One process's subscription to the announcements, and the requests waiting on jobs.

    Without a Redis URL nothing is announced: waiters only time out (unit tests, fakes).
    At most `max_waiters` wait at once: more would hold connections open without limit, so
    `full` tells the caller to answer at once instead.
    """

    def __init__(
        self, redis_url: str | None, channel: str = events_channel(), max_waiters: int = 1000
    ) -> None:
        self.redis_url = redis_url
        self.channel = channel
        self.max_waiters = max_waiters
        self._waiters: dict[str, set[asyncio.Event]] = {}
        self._count = 0
        self.subscribed = asyncio.Event()  # set while the subscription is up (tests wait on it)

    @property
    def full(self) -> bool:
        return self._count >= self.max_waiters

    async def wait(self, job_id: str, timeout_s: float) -> bool:
        """True when the job was announced changed within `timeout_s`, False when it was not."""
        event = asyncio.Event()
        self._waiters.setdefault(job_id, set()).add(event)
        self._count += 1
        try:
            await asyncio.wait_for(event.wait(), timeout_s)
            return True
        except TimeoutError:
            return False
        finally:
            self._count -= 1
            waiting = self._waiters.get(job_id)
            if waiting is not None:
                waiting.discard(event)
                if not waiting:
                    del self._waiters[job_id]

    def announce(self, job_id: str) -> None:
        """Wake every request waiting on `job_id` (what a message on the channel does)."""
        for event in self._waiters.get(job_id, ()):
            event.set()

    async def listen(self) -> None:
        """Follow the channel until cancelled; after a lost connection, subscribe again."""
        if self.redis_url is None:
            return
        while True:
            # A connection that dies silently leaves this waiting: waiters still look again
            # every RECHECK_S, and keepalive lets the kernel notice in time.
            client = aioredis.Redis.from_url(
                self.redis_url, socket_connect_timeout=2, socket_keepalive=True
            )
            try:
                async with client.pubsub() as pubsub:
                    await pubsub.subscribe(self.channel)
                    async for message in pubsub.listen():
                        if message["type"] == "subscribe":  # Redis confirmed: nothing missed now
                            self.subscribed.set()
                        elif message["type"] == "message":
                            self.announce(message["data"].decode())
            except (RedisError, OSError) as exc:
                log.warning("job_events.disconnected error=%s", type(exc).__name__)
            finally:
                self.subscribed.clear()
                await client.aclose()
            await asyncio.sleep(_RECONNECT_S)
