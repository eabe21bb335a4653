"""What `/metrics` shows, in Prometheus' text format (0.0.4), from three sources:

- counters shared by every process (jobs, documents, notifications, batches): one Redis hash,
  because the API and the workers run on different hosts and a scrape reaches only one API;
- the converter pools' statistics, which each worker publishes in its heartbeat (`PoolStats`),
  summed here;
- the API process's own HTTP requests (`HttpMetrics`), and dramatiq's queues read from Redis.

Written by hand rather than with prometheus_client: its registry is process-global, while each
scrape here assembles series from Redis and heartbeats; the format itself is a page of text.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Iterable, Mapping
from typing import Any, Literal, Protocol

import msgspec

from docgen.heartbeat import Heartbeat
from docgen.jobs import redis_errors
from docgen.pool import PoolStats

__all__ = [
    "COUNTERS",
    "HTTP_BUCKETS",
    "QUEUE_STATES",
    "Counters",
    "Family",
    "HttpMetrics",
    "MemoryCounters",
    "RedisCounters",
    "counter_families",
    "pool_families",
    "queue_families",
    "redis_queue_depths",
    "render",
    "series",
]

Kind = Literal["counter", "gauge", "histogram"]


class Family(msgspec.Struct, frozen=True):
    """One metric: its samples are (series with labels, value), suffixes included."""

    name: str
    kind: Kind
    help: str
    samples: list[tuple[str, float]]


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def series(name: str, **labels: str) -> str:
    """`name{a="1",b="2"}` (labels sorted, so that one series has one spelling)."""
    if not labels:
        return name
    inner = ",".join(f'{k}="{_escape(v)}"' for k, v in sorted(labels.items()))
    return f"{name}{{{inner}}}"


def _number(value: float) -> str:
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    return str(int(value)) if float(value).is_integer() else repr(float(value))


def render(families: Iterable[Family]) -> str:
    lines: list[str] = []
    for family in families:
        lines.append(f"# HELP {family.name} {family.help}")
        lines.append(f"# TYPE {family.name} {family.kind}")
        lines += [f"{s} {_number(v)}" for s, v in family.samples]
    return "\n".join(lines) + "\n"


# -- counters shared by the API and the workers -------------------------------------------------

# name → (help, the series shown at 0 before anything happened, so that alerts and dashboards
# find them on a fresh deployment). Counting any other series of these names works too.
COUNTERS: dict[str, tuple[str, list[dict[str, str]]]] = {
    "docgen_jobs_total": (
        "Jobs accepted by the API (status=accepted) and finished (succeeded, partial, failed)",
        [{"status": s} for s in ("accepted", "succeeded", "partial", "failed")],
    ),
    "docgen_documents_total": (
        "Documents produced by workers by queue and outcome: succeeded (a new version), "
        "reused (unchanged input and template), failed, retried (a transient failure)",
        [
            {"queue": q, "outcome": o}
            for q in ("render", "batch")
            for o in ("succeeded", "reused", "failed", "retried")
        ],
    ),
    "docgen_notifications_total": (
        "Emails and webhooks by outcome: sent, failed (given up), retried",
        [
            {"channel": c, "outcome": o}
            for c in ("email", "webhook")
            for o in ("sent", "failed", "retried")
        ],
    ),
    "docgen_batches_total": (
        "Year-end batches started and finished",
        [{"state": "started"}, {"state": "finished"}],
    ),
    "docgen_batch_documents_planned_total": (
        'Documents planned by batches; compare with docgen_documents_total{queue="batch"}',
        [{}],
    ),
}


class Counters(Protocol):
    def add(self, name: str, labels: Mapping[str, str], amount: int = 1) -> None: ...

    def read(self) -> dict[str, float]:
        """Every counted series (`series(...)` spelling) with its value."""
        ...


class RedisCounters:
    """One Redis hash, field = series: atomic increments from any process on any host."""

    def __init__(self, redis: Any, prefix: str = "docgen") -> None:
        self._redis = redis
        self._key = f"{prefix}:metrics"

    def add(self, name: str, labels: Mapping[str, str], amount: int = 1) -> None:
        with redis_errors():
            self._redis.hincrby(self._key, series(name, **labels), amount)

    def read(self) -> dict[str, float]:
        with redis_errors():
            raw: dict[bytes, bytes] = self._redis.hgetall(self._key)
        return {k.decode(): float(v) for k, v in raw.items()}


class MemoryCounters:
    def __init__(self) -> None:
        self.values: dict[str, float] = {}
        self._lock = threading.Lock()

    def add(self, name: str, labels: Mapping[str, str], amount: int = 1) -> None:
        key = series(name, **labels)
        with self._lock:
            self.values[key] = self.values.get(key, 0) + amount

    def read(self) -> dict[str, float]:
        with self._lock:
            return dict(self.values)


def counter_families(values: Mapping[str, float]) -> list[Family]:
    families = []
    for name, (help_text, known) in COUNTERS.items():
        samples = {series(name, **labels): 0.0 for labels in known}
        samples.update({k: v for k, v in values.items() if k.partition("{")[0] == name})
        families.append(Family(name, "counter", help_text, sorted(samples.items())))
    return families


# -- converter pools, from the workers' heartbeats ----------------------------------------------


def pool_families(beats: list[Heartbeat]) -> list[Family]:
    """Summed over live workers: a worker that stops takes its counts with it (Prometheus'
    `rate()` reads the drop as a counter reset)."""
    total = PoolStats()
    for beat in beats:
        if beat.pool is None:
            continue
        for field in ("conversions", "failures", "timeouts", "restarts", "recycles"):
            setattr(total, field, getattr(total, field) + getattr(beat.pool, field))
        total.seconds_total += beat.pool.seconds_total
        for bound, count in beat.pool.buckets.items():
            total.buckets[bound] = total.buckets.get(bound, 0) + count
    hist = "docgen_conversion_duration_seconds"
    bounds = sorted(total.buckets, key=lambda b: math.inf if b == "+Inf" else float(b))
    return [
        Family(
            "docgen_workers",
            "gauge",
            "Workers with a fresh heartbeat",
            [("docgen_workers", len(beats))],
        ),
        Family(
            "docgen_converters_ready",
            "gauge",
            "LibreOffice instances ready, over all workers (of docgen_converters_total)",
            [("docgen_converters_ready", sum(b.converters_ready for b in beats))],
        ),
        Family(
            "docgen_converters_total",
            "gauge",
            "LibreOffice instances configured, over all workers",
            [("docgen_converters_total", sum(b.converters_total for b in beats))],
        ),
        Family(
            hist,
            "histogram",
            "Time of one DOCX → PDF conversion that succeeded",
            [(series(f"{hist}_bucket", le=b), total.buckets[b]) for b in bounds]
            + [(f"{hist}_sum", total.seconds_total), (f"{hist}_count", total.conversions)],
        ),
        *(
            Family(
                f"docgen_converter_{field}_total",
                "counter",
                help_text,
                [(f"docgen_converter_{field}_total", getattr(total, field))],
            )
            for field, help_text in (
                ("failures", "Conversions that failed (each attempt)"),
                ("timeouts", "Conversions that hung past DOCGEN_CONVERSION_TIMEOUT"),
                ("restarts", "LibreOffice instances replaced (hang, crash or recycling)"),
                ("recycles", "Instances replaced after max conversions or memory"),
            )
        ),
    ]


# -- dramatiq's queues ---------------------------------------------------------------------------

QUEUE_STATES = ("waiting", "in_progress", "delayed", "dead")


def redis_queue_depths(
    redis: Any, queues: Iterable[str], namespace: str = "dramatiq"
) -> dict[tuple[str, str], int]:
    """Messages per queue and state, from dramatiq's RedisBroker keys (its dispatch.lua):
    `ns:q` a list of waiting ids, `ns:q.msgs` a hash of every message not yet acknowledged
    (so the fetched ones are the difference), `ns:q.DQ.msgs` the delayed ones (retries waiting
    for their backoff), `ns:q.XQ` a sorted set of the dead-lettered."""
    depths: dict[tuple[str, str], int] = {}
    with redis_errors():
        pipe = redis.pipeline(transaction=False)
        for queue in queues:
            base = f"{namespace}:{queue}"
            pipe.llen(base)
            pipe.hlen(f"{base}.msgs")
            pipe.hlen(f"{base}.DQ.msgs")
            pipe.zcard(f"{base}.XQ")
        answers = pipe.execute()
    for i, queue in enumerate(queues):
        waiting, stored, delayed, dead = answers[4 * i : 4 * i + 4]
        depths[(queue, "waiting")] = int(waiting)
        depths[(queue, "in_progress")] = max(int(stored) - int(waiting), 0)
        depths[(queue, "delayed")] = int(delayed)
        depths[(queue, "dead")] = int(dead)
    return depths


def queue_families(depths: Mapping[tuple[str, str], int]) -> list[Family]:
    name = "docgen_queue_messages"
    return [
        Family(
            name,
            "gauge",
            "Messages in dramatiq's queues (render, batch, notify) by state: waiting, "
            "in_progress (fetched by a worker), delayed (retry backoff), dead (gave up)",
            [(series(name, queue=q, state=s), n) for (q, s), n in sorted(depths.items())],
        )
    ]


# -- this API process's HTTP requests -----------------------------------------------------------

# Seconds. Most answers take milliseconds; a 32 MiB validation takes seconds.
HTTP_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, math.inf)


class HttpMetrics:
    """Requests and latencies of one API process, by route template, method and status."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._requests: dict[tuple[str, str, str], int] = {}
        # (route, method) → bucket counts, sum
        self._latency: dict[tuple[str, str], tuple[list[int], float]] = {}

    def observe(self, route: str, method: str, status: int, seconds: float) -> None:
        with self._lock:
            key = (route, method, str(status))
            self._requests[key] = self._requests.get(key, 0) + 1
            counts, total = self._latency.get((route, method), ([0] * len(HTTP_BUCKETS), 0.0))
            for i, bound in enumerate(HTTP_BUCKETS):
                if seconds <= bound:
                    counts[i] += 1
            self._latency[(route, method)] = (counts, total + seconds)

    def families(self) -> list[Family]:
        with self._lock:
            requests = dict(self._requests)
            latency = {k: (list(c), s) for k, (c, s) in self._latency.items()}
        hist = "docgen_http_request_duration_seconds"
        samples: list[tuple[str, float]] = []
        for (route, method), (counts, total) in sorted(latency.items()):
            for bound, count in zip(HTTP_BUCKETS, counts, strict=True):
                le = "+Inf" if math.isinf(bound) else _number(bound)
                samples.append((series(f"{hist}_bucket", route=route, method=method, le=le), count))
            samples.append((series(f"{hist}_sum", route=route, method=method), total))
            samples.append((series(f"{hist}_count", route=route, method=method), counts[-1]))
        return [
            Family(
                "docgen_http_requests_total",
                "counter",
                "HTTP requests answered by this API process, by route, method and status",
                [
                    (series("docgen_http_requests_total", route=r, method=m, status=s), n)
                    for (r, m, s), n in sorted(requests.items())
                ],
            ),
            Family(hist, "histogram", "Time to answer an HTTP request, by route", samples),
        ]
