"""`GET /metrics` (admin only) and the middleware that times every request."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import anyio
import msgspec
from litestar import Response, get
from litestar.handlers import HTTPRouteHandler
from litestar.middleware import ASGIMiddleware
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from docgen.heartbeat import Heartbeat
from docgen.metrics import (
    Counters,
    Family,
    HttpMetrics,
    counter_families,
    pool_families,
    queue_families,
    render,
)
from service.auth import admin_only

__all__ = ["MetricsSources", "RequestTiming", "metrics_route"]

# Prometheus' text exposition format, version 0.0.4.
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


class MetricsSources(msgspec.Struct, frozen=True):
    """Where the series come from: shared counters, queues and heartbeats (in Redis)."""

    counters: Counters
    queue_depths: Callable[[], dict[tuple[str, str], int]]
    workers: Callable[[], list[Heartbeat]]


class RequestTiming(ASGIMiddleware):
    """Counts and times each answer by route template (`/v1/jobs/{job_id}`, not the id: one
    series per route, not per job). Outermost, so that 401s and 429s are counted too."""

    def __init__(self, http: HttpMetrics) -> None:
        self.http = http

    async def handle(self, scope: Scope, receive: Receive, send: Send, next_app: ASGIApp) -> None:
        started = time.perf_counter()
        status = 500  # an exception that escapes every handler is answered 500

        async def remember(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await next_app(scope, receive, remember)
        finally:
            route = scope.get("path_template") or "unmatched"
            self.http.observe(route, scope["method"], status, time.perf_counter() - started)


def metrics_route(sources: MetricsSources, http: HttpMetrics) -> HTTPRouteHandler:
    def collect() -> list[Family]:
        return [
            *http.families(),
            *counter_families(sources.counters.read()),
            *queue_families(sources.queue_depths()),
            *pool_families(sources.workers()),
        ]

    @get(
        "/metrics",
        summary="Prometheus metrics (admin key): requests, jobs, queues, converters, deliveries",
        guards=[admin_only],
        include_in_schema=True,
    )
    async def metrics() -> Response[Any]:
        families = await anyio.to_thread.run_sync(collect)
        return Response(render(families), media_type=CONTENT_TYPE)

    return metrics
