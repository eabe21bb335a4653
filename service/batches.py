"""`/v1/batches`: start a year-end regeneration, follow it, list its failures, cancel it."""

from __future__ import annotations

import csv
import io
import uuid
from typing import Any

import anyio
import msgspec
from litestar import Request, Response, get, post
from litestar.handlers import HTTPRouteHandler
from litestar.params import FromPath

from docgen.batches import (
    BatchRecord,
    BatchRequest,
    batch_failures,
    batch_status,
    plan_batch,
)
from docgen.errors import FieldProblem, RequestInvalid
from docgen.jobs import utcnow
from docgen.keys import valid_tenant
from docgen.queue import longest_first
from docgen.settings import Settings
from docgen.typecheck import type_problems
from docgen.webhooks import check_url
from service.auth import CallerDep, admin_only
from service.problems import problem

__all__ = ["batch_routes"]

_INVALID = "批量任务请求未通过校验 / Batch request validation failed"


def _decode(body: bytes) -> BatchRequest:
    try:
        raw = msgspec.json.decode(body)
    except msgspec.DecodeError as exc:
        raise RequestInvalid(
            400,
            "请求体不是合法的 JSON / Malformed JSON",
            [FieldProblem("", "json.malformed", f"JSON 格式错误：{exc}", f"Malformed JSON: {exc}")],
        ) from exc
    problems = list(type_problems(raw, BatchRequest))
    if problems:
        raise RequestInvalid(422, _INVALID, problems)
    request = msgspec.convert(raw, BatchRequest)
    if request.tenant is not None and not valid_tenant(request.tenant):
        raise RequestInvalid(
            422,
            _INVALID,
            [FieldProblem("tenant", "tenant.invalid", "租户标识无效", "Invalid tenant")],
        )
    if not 2023 <= request.year <= 2100:
        raise RequestInvalid(
            422,
            _INVALID,
            [
                FieldProblem(
                    "year",
                    "value.too_small" if request.year < 2023 else "value.too_large",
                    "年份须在 2023–2100 之间",
                    "year: 2023–2100",
                )
            ],
        )
    return request


def batch_routes(settings: Settings, services: Any) -> list[HTTPRouteHandler]:
    base = settings.public_base_url
    delivery = settings.delivery

    def answer(batch: BatchRecord, status_code: int = 200) -> Response[bytes]:
        status = batch_status(services.jobs, services.batches, batch, utcnow())
        body = {
            **msgspec.to_builtins(status),
            "links": {
                "self": f"{base}/v1/batches/{batch.id}",
                "failures": f"{base}/v1/batches/{batch.id}/failures",
                "failures_csv": f"{base}/v1/batches/{batch.id}/failures?format=csv",
                "cancel": f"{base}/v1/batches/{batch.id}/cancel",
            },
        }
        headers = {"Location": body["links"]["self"]} if status_code == 202 else None
        return Response(
            msgspec.json.encode(body),
            status_code=status_code,
            media_type="application/json",
            headers=headers,
        )

    def not_found(batch_id: str) -> Response[bytes]:
        return problem(
            404,
            f"批量任务不存在 / No batch {batch_id}",
            [FieldProblem("", "batch.not_found", "批量任务不存在", "No such batch")],
        )

    @post(
        "/v1/batches",
        status_code=202,
        summary="Regenerate stored communities' documents (low priority); 202 with the batch",
        guards=[admin_only],  # operators' work, over any tenant's communities
    )
    async def start_batch(request: Request[Any, Any, Any], caller: CallerDep) -> Response[bytes]:
        batch_request = _decode(await request.body())
        if batch_request.webhook_url:
            try:
                check_url(
                    batch_request.webhook_url,
                    allow_http=delivery.webhook_allow_http,
                    allow_private=delivery.webhook_allow_private,
                )
            except Exception as exc:
                code = getattr(exc, "code", "webhook.destination")
                raise RequestInvalid(
                    422,
                    _INVALID,
                    [
                        FieldProblem(
                            "webhook_url",
                            code,
                            getattr(exc, "message", str(exc)),
                            getattr(exc, "message_en", str(exc)),
                        )
                    ],
                ) from exc
        batch_id = "b" + uuid.uuid4().hex[:20]

        def plan_and_enqueue() -> BatchRecord:
            # Record first (the batch and its jobs), enqueue second (DESIGN §5.5).
            batch = plan_batch(
                services.store,
                services.jobs,
                services.batches,
                batch_id,
                # An operator regenerates one tenant's communities: the one named, or its own.
                batch_request.tenant or caller.tenant,
                batch_request,
                utcnow(),
            )
            planned = 0
            for job_id in batch.job_ids:
                found = services.jobs.get(job_id)
                documents = found[1] if found else []
                for attachment in longest_first(d.attachment for d in documents):
                    services.enqueuer.enqueue_batch_document(job_id, attachment)
                    planned += 1
            counters = services.metrics.counters
            counters.add("docgen_batches_total", {"state": "started"})
            counters.add("docgen_batch_documents_planned_total", {}, planned)
            return batch

        batch = await anyio.to_thread.run_sync(plan_and_enqueue)
        return await anyio.to_thread.run_sync(answer, batch, 202)

    @get(
        "/v1/batches/{batch_id:str}",
        summary="A batch's progress: done, reused, failed, ETA",
        guards=[admin_only],
    )
    async def get_batch(batch_id: FromPath[str]) -> Response[bytes]:
        batch = await anyio.to_thread.run_sync(services.batches.get, batch_id)
        if batch is None:
            return not_found(batch_id)
        return await anyio.to_thread.run_sync(answer, batch)

    @get(
        "/v1/batches/{batch_id:str}/failures",
        summary="The failed documents of a batch with reasons (JSON, or CSV with ?format=csv)",
        guards=[admin_only],
    )
    async def get_failures(
        batch_id: FromPath[str], request: Request[Any, Any, Any]
    ) -> Response[bytes]:
        batch = await anyio.to_thread.run_sync(services.batches.get, batch_id)
        if batch is None:
            return not_found(batch_id)
        rows = await anyio.to_thread.run_sync(batch_failures, services.jobs, batch)
        wants_csv = request.query_params.get("format") == "csv" or "text/csv" in (
            request.headers.get("accept", "")
        )
        if not wants_csv:
            return Response(
                msgspec.json.encode({"batch_id": batch_id, "failures": rows}),
                media_type="application/json",
            )
        out = io.StringIO()
        columns = ["community_id", "attachment", "code", "message", "message_en"]
        writer = csv.DictWriter(out, fieldnames=columns)
        writer.writeheader()
        writer.writerows(rows)
        # A byte-order mark: Excel, which most people open a CSV with, then reads UTF-8.
        return Response(
            ("\ufeff" + out.getvalue()).encode(),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f"attachment; filename=batch-{batch_id}-failures.csv"},
        )

    @post(
        "/v1/batches/{batch_id:str}/cancel",
        status_code=202,
        summary="Cancel a batch: documents not yet started are not made",
        guards=[admin_only],
    )
    async def cancel_batch(batch_id: FromPath[str]) -> Response[bytes]:
        batch = await anyio.to_thread.run_sync(services.batches.get, batch_id)
        if batch is None:
            return not_found(batch_id)
        await anyio.to_thread.run_sync(services.batches.cancel, batch_id)
        return await anyio.to_thread.run_sync(answer, batch, 202)

    return [start_batch, get_batch, get_failures, cancel_batch]
