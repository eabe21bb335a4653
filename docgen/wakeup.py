"""A dramatiq Redis broker whose idle consumers are woken by each message, instead of polling.

dramatiq's Redis consumer polls: with its queue empty it fetches (one Lua script) at growing
intervals up to its `worker_timeout`. At 50 ms for the render queue a person's job waited ≈20 ms
on average before a thread took it, and an idle worker ran the fetch script 20 times a second.
Here every message enqueued without a delay also pushes a token onto its queue's wake list, and
a consumer that finds its queue empty blocks on that list (BLPOP) for up to `WAIT_S` before it
fetches again: a message is taken at once, and an idle consumer fetches about once a second.

Both sides must use this broker: the API and the maintenance commands to push the tokens, the
workers to wait for them. A worker of an older revision still polls, and still gets the
messages; the tokens then pile up to `MAX_TOKENS` and no further.
"""

from __future__ import annotations

import contextlib
from typing import Any

import dramatiq
import redis
from dramatiq.brokers.redis import RedisBroker

from docgen.queue import BATCH_QUEUE, NOTIFY_QUEUE, RENDER_QUEUE

__all__ = ["MAX_TOKENS", "WAIT_S", "WAKING_QUEUES", "WakingRedisBroker", "wake_key"]

# Delay queues (`render.DQ`) are not woken: their messages wait for an eta, and dramatiq moves
# them to their queue through `enqueue`, which wakes that queue.
WAKING_QUEUES = frozenset({RENDER_QUEUE, BATCH_QUEUE, NOTIFY_QUEUE})
WAIT_S = 1.0  # the longest an idle consumer waits on its wake list (then fetches anyway)
MAX_TOKENS = 64  # tokens no consumer took (no worker running) stop piling up here


def wake_key(namespace: str, queue_name: str) -> str:
    """Beside dramatiq's own keys (`ns:render`, `ns:render.msgs`), never one of them."""
    return f"{namespace}:{queue_name}.wake"


class WakingRedisBroker(RedisBroker):
    def __init__(self, *, wait_s: float = WAIT_S, **options: Any) -> None:
        super().__init__(**options)  # type: ignore[no-untyped-call]
        self.wait_s = wait_s

    def enqueue(self, message: dramatiq.Message[Any], *, delay: int | None = None) -> Any:
        enqueued = super().enqueue(message, delay=delay)
        if delay is None and message.queue_name in WAKING_QUEUES:
            key = wake_key(self.namespace, message.queue_name)
            pipe = self.client.pipeline(transaction=False)
            pipe.lpush(key, b"1")
            pipe.ltrim(key, 0, MAX_TOKENS - 1)
            # The message is enqueued: a lost token only leaves it to the consumer's next fetch
            # (≤ WAIT_S), where failing here would tell the caller it was not.
            with contextlib.suppress(redis.RedisError):
                pipe.execute()
        return enqueued

    def do_fetch(self, queue_name: str, prefetch: int) -> list[bytes]:
        """Messages of `queue_name`, up to `prefetch`; on an empty queue, wait for a token first.

        dramatiq's consumer calls this with its queue empty and sleeps its backoff after an
        empty answer; defined here, it takes precedence over the broker's `do_*` dispatch.
        """
        fetch = self._dispatch("fetch")  # type: ignore[no-untyped-call]
        messages: list[bytes] = fetch(queue_name, prefetch)
        if messages or queue_name not in WAKING_QUEUES:
            return messages
        if self.client.blpop([wake_key(self.namespace, queue_name)], timeout=self.wait_s) is None:
            return []
        woken: list[bytes] = fetch(queue_name, prefetch)
        return woken
