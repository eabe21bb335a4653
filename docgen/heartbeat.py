"""Worker heartbeats in Redis: `/ready` reads them, since the converters may be on other hosts."""

from __future__ import annotations

from typing import Any

import msgspec

from docgen.jobs import redis_errors
from docgen.pool import PoolStats

__all__ = ["HEARTBEAT_TTL_S", "Heartbeat", "live_workers", "publish_heartbeat"]

HEARTBEAT_TTL_S = 15  # a worker beats every 5 s; three missed beats and it counts as gone


class Heartbeat(msgspec.Struct, frozen=True):
    worker_id: str
    host: str
    converters_ready: int
    converters_total: int
    # The pool's counts since the worker started, for /metrics on the API's host (None: the
    # worker uses converters elsewhere, or is older than metrics).
    pool: PoolStats | None = None


def publish_heartbeat(redis: Any, beat: Heartbeat, prefix: str = "docgen") -> None:
    with redis_errors():
        redis.set(
            f"{prefix}:worker:{beat.worker_id}", msgspec.json.encode(beat), ex=HEARTBEAT_TTL_S
        )


def live_workers(redis: Any, prefix: str = "docgen") -> list[Heartbeat]:
    with redis_errors():
        keys = list(redis.scan_iter(f"{prefix}:worker:*"))
        values = redis.mget(keys) if keys else []
    return [msgspec.json.decode(v, type=Heartbeat) for v in values if v]
