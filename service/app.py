"""The Litestar application; `create_app(settings)` is the API's composition root."""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import anyio
import msgspec
from litestar import Litestar, Request, Response, get, post
from litestar.exceptions import HTTPException
from litestar.openapi import OpenAPIConfig, ResponseSpec
from litestar.openapi.spec import OpenAPIMediaType, Operation, Reference, RequestBody
from litestar.params import FromPath
from litestar.response import Redirect

from docgen.errors import DocgenError, FieldProblem, RequestInvalid
from docgen.glyphs import FontCoverage, GlyphCoverage
from docgen.indicators import Indicators
from docgen.jobs import DocumentRecord, JobRecord, JobStore, utcnow
from docgen.objectstore import ObjectStore
from docgen.queue import Enqueuer
from docgen.resources import job_resource
from docgen.schema import ATTACHMENT_IDS, JobRequest
from docgen.settings import Settings
from docgen.storage import input_key
from docgen.templates import load_catalogue
from docgen.validation import INVALID_TITLE, MAX_BODY_BYTES, Verdict, check_job_request
from service.problems import (
    Problem,
    on_docgen_error,
    on_http_exception,
    on_request_invalid,
    on_unexpected,
    problem,
)

__all__ = ["Services", "create_app"]

log = logging.getLogger("docgen.api")

DOWNLOAD_LINK_LIFETIME = dt.timedelta(minutes=10)  # a fresh link is signed on every click


class Services(msgspec.Struct, frozen=True):
    """What the API talks to, behind Protocols: real adapters, or fakes in unit tests."""

    jobs: JobStore
    store: ObjectStore
    enqueuer: Enqueuer
    # name → check that raises when the dependency is not ready (/ready)
    readiness: dict[str, Callable[[], None]]
    # attachment → file name people see (without extension)
    file_stems: dict[str, str]
    # which characters the documents' fonts can draw (read from the font files, not a service)
    glyphs: GlyphCoverage


class ValidationAnswer(msgspec.Struct, frozen=True):
    """`POST /v1/validate`: what `POST /v1/jobs` would say, without making a job."""

    valid: bool
    errors: list[FieldProblem]
    warnings: list[FieldProblem]
    indicators: Indicators | None  # None when the types are wrong: nothing to count yet


# The request body is read raw (validation collects every error itself, which Litestar's own
# decoding would not), so the OpenAPI document describes it here, from the contract's Structs.
_REQUEST_SCHEMAS = msgspec.json.schema_components(
    [JobRequest], ref_template="#/components/schemas/{name}"
)[1]


@dataclass
class _TakesJobRequest(Operation):
    def __post_init__(self) -> None:
        self.request_body = RequestBody(
            required=True,
            description="One community's data for one year (shared/contract/README.md)",
            content={
                "application/json": OpenAPIMediaType(
                    schema=Reference(ref="#/components/schemas/JobRequest")
                )
            },
        )


def _problem_spec(description: str) -> ResponseSpec:
    return ResponseSpec(
        data_container=Problem, media_type="application/problem+json", description=description
    )


_JOB = ResponseSpec(
    data_container=dict[str, Any], description="The job resource (shared/contract/README.md)"
)
_REFUSALS = {
    400: _problem_spec("Not JSON (`json.malformed`, `json.too_deep`)"),
    413: _problem_spec("Body larger than 32 MiB (`body.too_large`)"),
}


def _document_request_schemas(app: Litestar) -> None:
    openapi = app.openapi_schema  # built once and cached; what /schema serves
    schemas = openapi.components.schemas
    clash = schemas.keys() & _REQUEST_SCHEMAS.keys()
    if clash:  # two types of one name would make one of them lie in the document
        raise RuntimeError(f"OpenAPI schema names used twice: {sorted(clash)}")
    schemas.update(_REQUEST_SCHEMAS)  # type: ignore[arg-type]  # plain JSON Schema dicts


def real_services(settings: Settings) -> Services:
    """Adapters for Redis, S3 and the dramatiq broker; nothing connects until first used."""
    import redis
    from dramatiq.brokers.redis import RedisBroker

    from docgen.heartbeat import live_workers
    from docgen.jobs import RedisJobStore
    from docgen.objectstore import S3Store
    from docgen.queue import DramatiqEnqueuer

    client = redis.Redis.from_url(settings.redis_url, socket_timeout=5, socket_connect_timeout=2)
    store = S3Store(settings.s3)
    jobs = RedisJobStore(client)
    # No middleware: the API only enqueues; retries and limits are the workers' business.
    broker = RedisBroker(url=settings.redis_url, middleware=[])

    def converter_ready() -> None:
        workers = live_workers(client)
        if not any(w.converters_ready for w in workers):
            raise DocgenError(
                "converter.unavailable",
                "没有可用的 PDF 转换进程",
                "No worker with a ready converter",
                retryable=True,
            )

    catalogue = load_catalogue(settings.templates_dir)
    return Services(
        jobs=jobs,
        store=store,
        enqueuer=DramatiqEnqueuer(broker),
        readiness={"redis": jobs.ping, "s3": store.ping, "converter": converter_ready},
        file_stems={a: catalogue[a].stem for a in ATTACHMENT_IDS},
        glyphs=FontCoverage(settings.converter.fontconfig_file),
    )


def create_app(settings: Settings, services: Services | None = None) -> Litestar:
    services = services or real_services(settings)
    base_url = settings.public_base_url

    async def check(request: Request[Any, Any, Any]) -> Verdict:
        body = await request.body()
        # Validation of a 32 MiB body takes a while: off the event loop.
        return await anyio.to_thread.run_sync(check_job_request, body, services.glyphs)

    @post(
        "/v1/jobs",
        status_code=202,
        summary="Submit a community's data for rendering",
        operation_class=_TakesJobRequest,
        responses={
            202: _JOB,
            **_REFUSALS,
            422: _problem_spec("Every failing field, with warnings (see README: error codes)"),
        },
    )
    async def create_job(request: Request[Any, Any, Any]) -> Response[bytes]:
        verdict = await check(request)
        job_request = verdict.request
        if job_request is None:
            raise RequestInvalid(422, INVALID_TITLE, verdict.errors, verdict.warnings)
        # Stored as normalised (provinces in full): the worker renders exactly this.
        canonical = msgspec.json.encode(job_request)
        job = JobRecord(
            id=uuid.uuid4().hex,
            tenant=settings.tenant,
            community_id=job_request.community_id,
            year=job_request.year,
            created_at=utcnow(),
            input_key=input_key(settings.tenant, hashlib.sha256(canonical).hexdigest()),
            attachments=job_request.requested_attachments(),
            warnings=tuple(verdict.warnings),
            indicators=verdict.indicators,
        )

        def record_and_enqueue() -> None:
            # Record first, enqueue second (DESIGN §5.5): a message never points at nothing.
            services.store.put(job.input_key, canonical, "application/json")
            services.jobs.create(job)
            for attachment in job.attachments:
                services.enqueuer.enqueue_document(job.id, attachment)

        await anyio.to_thread.run_sync(record_and_enqueue)
        log.info(
            "job.accepted job_id=%s community_id=%s attachments=%s warnings=%d",
            job.id,
            job.community_id,
            ",".join(job.attachments),
            len(job.warnings),
        )
        # Just recorded: every document is queued (no second read of the store needed).
        resource = job_resource(job, [DocumentRecord(a) for a in job.attachments], base_url)
        return Response(
            msgspec.json.encode(resource),
            status_code=202,
            media_type="application/json",
            headers={"Location": resource["links"]["self"]},
        )

    @post(
        "/v1/validate",
        status_code=200,
        summary="Check a community's data without rendering: errors, warnings, indicators",
        operation_class=_TakesJobRequest,
        responses=_REFUSALS,
    )
    async def validate(request: Request[Any, Any, Any]) -> ValidationAnswer:
        verdict = await check(request)
        return ValidationAnswer(verdict.valid, verdict.errors, verdict.warnings, verdict.indicators)

    def job_not_found(job_id: str) -> Response[bytes]:
        return problem(
            404,
            f"任务不存在 / No job {job_id}",
            [FieldProblem("", "job.not_found", "任务不存在", "No such job")],
        )

    @get(
        "/v1/jobs/{job_id:str}",
        summary="A job's status and its documents",
        responses={200: _JOB, 404: _problem_spec("No such job (`job.not_found`)")},
    )
    async def get_job(job_id: FromPath[str]) -> Response[bytes]:
        found = await anyio.to_thread.run_sync(services.jobs.get, job_id)
        if found is None:
            return job_not_found(job_id)
        return Response(
            msgspec.json.encode(job_resource(*found, base_url)), media_type="application/json"
        )

    @get(
        "/v1/jobs/{job_id:str}/indicators",
        summary="The monitoring indicators (监测指标) of a job's data",
        responses={
            200: ResponseSpec(data_container=Indicators, description="监测指标"),
            404: _problem_spec("No such job, or no indicators recorded"),
        },
    )
    async def get_indicators(job_id: FromPath[str]) -> Response[bytes]:
        found = await anyio.to_thread.run_sync(services.jobs.get, job_id)
        if found is None:
            return job_not_found(job_id)
        indicators = found[0].indicators
        if indicators is None:  # a record written before indicators existed
            return problem(
                404,
                f"该任务没有监测指标 / Job {job_id} has no indicators",
                [
                    FieldProblem(
                        "",
                        "indicators.not_found",
                        "该任务没有监测指标",
                        "The job has no indicators",
                    )
                ],
            )
        return Response(msgspec.json.encode(indicators), media_type="application/json")

    @get(
        "/v1/jobs/{job_id:str}/documents/{attachment:str}/{kind:str}",
        status_code=302,
        summary="Redirect to a fresh short-lived download link",
    )
    async def download(
        job_id: FromPath[str], attachment: FromPath[str], kind: FromPath[str]
    ) -> Response[Any]:
        found = await anyio.to_thread.run_sync(services.jobs.get, job_id)
        document = None
        if found is not None and kind in ("pdf", "docx"):
            document = next((d for d in found[1] if d.attachment == attachment), None)
        key = getattr(document, f"{kind}_key", None) if document else None
        if document is None or document.status != "succeeded" or key is None:
            return problem(
                404, f"文件不存在或尚未生成 / No {kind} for {attachment} in job {job_id}"
            )
        filename = f"{services.file_stems[attachment]}.{kind}"
        url = services.store.download_url(key, filename, DOWNLOAD_LINK_LIFETIME)
        return Redirect(url, status_code=302, headers={"Cache-Control": "no-store"})

    @get("/health", summary="The process is alive")
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    @get("/ready", summary="Redis, S3 and a converter answer")
    async def ready() -> Response[bytes]:
        checks: dict[str, dict[str, str]] = {}
        for name, check in services.readiness.items():
            try:
                await anyio.to_thread.run_sync(check)
                checks[name] = {"status": "ok"}
            except DocgenError as exc:
                checks[name] = {"status": "down", "code": exc.code, "message": exc.message}
        ok = all(c["status"] == "ok" for c in checks.values())
        return Response(
            msgspec.json.encode({"status": "ok" if ok else "down", "checks": checks}),
            status_code=200 if ok else 503,
            media_type="application/json",
        )

    async def load_fonts() -> None:
        # Reading the fonts' character maps takes about a second: at start, not in the first
        # submitter's request.
        await anyio.to_thread.run_sync(lambda: services.glyphs.available)

    app = Litestar(
        route_handlers=[create_job, validate, get_job, get_indicators, download, health, ready],
        on_startup=[load_fonts],
        exception_handlers={
            RequestInvalid: on_request_invalid,
            DocgenError: on_docgen_error,
            HTTPException: on_http_exception,
            Exception: on_unexpected,
        },
        request_max_body_size=MAX_BODY_BYTES,
        openapi_config=OpenAPIConfig(
            title="行业产教融合共同体文档服务 / docgen", version="0.1.0", path="/schema"
        ),
    )
    _document_request_schemas(app)
    return app
