"""Enqueueing work: messages carry ids only, addressed to actors by name.

The API does not import `workers/`: it builds a dramatiq message for the actor name and queue
the workers register (DESIGN §2).
"""

from __future__ import annotations

from typing import Protocol

__all__ = ["PRODUCE_DOCUMENT", "RENDER_QUEUE", "DramatiqEnqueuer", "Enqueuer", "ListEnqueuer"]

RENDER_QUEUE = "render"
PRODUCE_DOCUMENT = "produce_document"


class Enqueuer(Protocol):
    def enqueue_document(self, job_id: str, attachment: str) -> None: ...


class DramatiqEnqueuer:
    def __init__(self, broker: object) -> None:
        self._broker = broker

    def enqueue_document(self, job_id: str, attachment: str) -> None:
        import dramatiq

        message: dramatiq.Message[object] = dramatiq.Message(
            queue_name=RENDER_QUEUE,
            actor_name=PRODUCE_DOCUMENT,
            args=(job_id, attachment),
            kwargs={},
            options={},
        )
        from docgen.jobs import redis_errors

        with redis_errors():
            self._broker.enqueue(message)  # type: ignore[attr-defined]


class ListEnqueuer:
    """Records messages instead of sending them: for unit tests of the API's logic."""

    def __init__(self) -> None:
        self.messages: list[tuple[str, str]] = []

    def enqueue_document(self, job_id: str, attachment: str) -> None:
        self.messages.append((job_id, attachment))
