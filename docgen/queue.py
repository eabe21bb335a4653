"""Enqueueing work: messages carry ids only, addressed to actors by name.

The API does not import `workers/`: it builds a dramatiq message for the actor name and queue
the workers register (DESIGN §2). Queues follow resources: `render` needs a converter, `notify`
only the network (DESIGN §5.8), so an email never waits behind a long conversion.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Protocol

import msgspec

__all__ = [
    "BATCH_QUEUE",
    "DELIVER",
    "DELIVER_BATCH",
    "ENQUEUE_ORDER",
    "FINISH_JOB",
    "NOTIFY_QUEUE",
    "PRODUCE_BATCH_DOCUMENT",
    "PRODUCE_DOCUMENT",
    "RENDER_QUEUE",
    "DramatiqEnqueuer",
    "Enqueuer",
    "ListEnqueuer",
    "PendingMessages",
    "RedisPendingMessages",
    "longest_first",
]

RENDER_QUEUE = "render"
BATCH_QUEUE = "batch"  # low priority: served by the pool after every interactive caller
NOTIFY_QUEUE = "notify"
PRODUCE_DOCUMENT = "produce_document"
PRODUCE_BATCH_DOCUMENT = "produce_batch_document"
FINISH_JOB = "finish_job"
DELIVER = "deliver"
DELIVER_BATCH = "deliver_batch"

# The order a job's documents are enqueued in: the longest first, so that the worker's threads
# do not end a job with 附件5 (7 pages, the longest conversion) alone on one instance while the
# others idle. Render + convert on this machine kind (docs/BENCHMARKS.md §1, §4): 附件5 and 附件2
# (three charts) ≈ 0.6–1.8 s, 附件3 ≈ 0.6 s, 附件1 and 附件4 ≈ 0.3–0.5 s.
ENQUEUE_ORDER: tuple[str, ...] = (
    "application",
    "talent_forecast",
    "supply_demand",
    "industry_analysis",
    "annual_report",
)


def longest_first(attachments: Iterable[str]) -> list[str]:
    """`attachments` in `ENQUEUE_ORDER` (an unknown one last, in its given order)."""
    rank = {a: i for i, a in enumerate(ENQUEUE_ORDER)}
    return sorted(attachments, key=lambda a: rank.get(a, len(rank)))


class Enqueuer(Protocol):
    def enqueue_document(self, job_id: str, attachment: str) -> None: ...
    def enqueue_batch_document(self, job_id: str, attachment: str) -> None: ...
    def enqueue_batch_finish(self, batch_id: str) -> None: ...
    def enqueue_finish(self, job_id: str) -> None: ...
    def enqueue_delivery(self, job_id: str, channel: str, target: str) -> None: ...


class DramatiqEnqueuer:
    def __init__(self, broker: object) -> None:
        self._broker = broker

    def _send(self, queue: str, actor: str, *args: str) -> None:
        import dramatiq

        from docgen.jobs import redis_errors

        message: dramatiq.Message[object] = dramatiq.Message(
            queue_name=queue, actor_name=actor, args=args, kwargs={}, options={}
        )
        with redis_errors():
            self._broker.enqueue(message)  # type: ignore[attr-defined]

    def enqueue_document(self, job_id: str, attachment: str) -> None:
        self._send(RENDER_QUEUE, PRODUCE_DOCUMENT, job_id, attachment)

    def enqueue_batch_document(self, job_id: str, attachment: str) -> None:
        self._send(BATCH_QUEUE, PRODUCE_BATCH_DOCUMENT, job_id, attachment)

    def enqueue_batch_finish(self, batch_id: str) -> None:
        self._send(NOTIFY_QUEUE, DELIVER_BATCH, batch_id)

    def enqueue_finish(self, job_id: str) -> None:
        self._send(NOTIFY_QUEUE, FINISH_JOB, job_id)

    def enqueue_delivery(self, job_id: str, channel: str, target: str) -> None:
        self._send(NOTIFY_QUEUE, DELIVER, job_id, channel, target)


class ListEnqueuer:
    """Records messages instead of sending them: for unit tests of the API's logic."""

    def __init__(self) -> None:
        self.messages: list[tuple[str, str]] = []
        self.finishes: list[str] = []
        self.deliveries: list[tuple[str, str, str]] = []
        self.batch_messages: list[tuple[str, str]] = []
        self.batch_finishes: list[str] = []

    def enqueue_batch_document(self, job_id: str, attachment: str) -> None:
        self.batch_messages.append((job_id, attachment))

    def enqueue_batch_finish(self, batch_id: str) -> None:
        self.batch_finishes.append(batch_id)

    def enqueue_document(self, job_id: str, attachment: str) -> None:
        self.messages.append((job_id, attachment))

    def enqueue_finish(self, job_id: str) -> None:
        self.finishes.append(job_id)

    def enqueue_delivery(self, job_id: str, channel: str, target: str) -> None:
        self.deliveries.append((job_id, channel, target))


class PendingMessages(Protocol):
    def pending(self) -> set[tuple[str, tuple[str, ...]]]:
        """(actor name, args) of every message that will still run: waiting, delayed for a
        retry, or fetched by a worker and not yet acknowledged (dead-lettered ones will not)."""
        ...


class _Sent(msgspec.Struct):
    actor_name: str
    args: tuple[str, ...]


class RedisPendingMessages:
    """Reads dramatiq's RedisBroker keys (its dispatch.lua): `ns:q.msgs` holds every message of
    queue `q` not yet acknowledged — waiting or in a worker's hands —, `ns:q.DQ.msgs` the
    delayed ones (retries waiting out their backoff)."""

    def __init__(self, redis: Any, queues: Iterable[str], namespace: str = "dramatiq") -> None:
        self._redis = redis
        self._queues = tuple(queues)
        self._namespace = namespace

    def pending(self) -> set[tuple[str, tuple[str, ...]]]:
        from docgen.jobs import redis_errors

        found: set[tuple[str, tuple[str, ...]]] = set()
        # Delayed hashes first: a retry moves from `.DQ` to its queue by enqueueing there before
        # acknowledging the delayed copy, so scanning in this order cannot miss it.
        names = [f"{self._namespace}:{q}.DQ.msgs" for q in self._queues]
        names += [f"{self._namespace}:{q}.msgs" for q in self._queues]
        with redis_errors():
            for name in names:
                for _, raw in self._redis.hscan_iter(name, count=1000):
                    try:
                        sent = msgspec.json.decode(raw, type=_Sent)
                    except msgspec.DecodeError:
                        continue  # not one of ours
                    found.add((sent.actor_name, sent.args))
        return found
