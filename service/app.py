"""The Litestar application; `create_app(settings)` is the API's composition root."""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import logging
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any
from urllib.parse import urlencode

import anyio
import msgspec
from litestar import Litestar, Request, Response, get, post
from litestar.exceptions import HTTPException
from litestar.openapi import OpenAPIConfig, ResponseSpec
from litestar.openapi.spec import OpenAPIMediaType, Operation, Reference, RequestBody
from litestar.params import FromPath, FromQuery, QueryParameter

from docgen.batches import BatchStore
from docgen.context import ATTACHMENT_NUMBERS
from docgen.delivery import share_link
from docgen.errors import DocgenError, FieldProblem, RequestInvalid
from docgen.glyphs import FontCoverage, GlyphCoverage
from docgen.idempotency import MAX_KEY_LENGTH, Claim, IdempotencyStore
from docgen.indicators import Indicators
from docgen.jobevents import RECHECK_S, JobEvents
from docgen.jobs import (
    Delivery,
    DocumentRecord,
    JobRecord,
    JobStatus,
    JobStore,
    job_status,
    utcnow,
)
from docgen.keys import Caller, KeyRing
from docgen.limits import LimitStore, TenantLimits, admit_job
from docgen.listing import JobQuery, list_jobs
from docgen.logs import about_job
from docgen.metrics import HttpMetrics
from docgen.objectstore import ObjectStore
from docgen.queue import Enqueuer, longest_first
from docgen.resources import job_resource
from docgen.schema import ATTACHMENT_IDS, JobRequest
from docgen.settings import Settings, require_api_keys, require_link_secret
from docgen.storage import LatestInput, VersionCounter, input_key, put_latest_input
from docgen.templates import load_catalogue
from docgen.validation import INVALID_TITLE, MAX_BODY_BYTES, Verdict, check_job_request
from docgen.webhooks import check_url
from service.auth import OPEN, CallerDep, auth_middleware, caller_dependency
from service.batches import batch_routes
from service.documents import bundle_redirect, document_routes, redirect_to
from service.metrics import MetricsSources, RequestTiming, metrics_route
from service.problems import (
    Problem,
    on_docgen_error,
    on_http_exception,
    on_request_invalid,
    on_tenant_limits,
    on_unexpected,
    problem,
)

__all__ = ["Services", "create_app"]

log = logging.getLogger("docgen.api")

MAX_WAIT_S = (
    30  # `GET /v1/jobs/{id}?wait=`: below the 60 s after which proxies often drop a quiet request
)
FINISHED: frozenset[JobStatus] = frozenset({"succeeded", "partial", "failed"})


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
    idempotency: IdempotencyStore
    batches: BatchStore
    limits: LimitStore
    metrics: MetricsSources
    versions: VersionCounter  # erasing a community resets its numbering
    # attachment → what people call it (附件5 行业产教融合共同体申报书), for the download page
    titles: dict[str, str] = {}
    # announcements of jobs' changes, for `GET /v1/jobs/{id}?wait=` (none: waits only time out)
    job_events: JobEvents = msgspec.field(default_factory=lambda: JobEvents(None))


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
    require_link_secret(settings)  # the links in job answers must verify on any replica
    require_api_keys(settings)
    import redis

    from docgen.batches import RedisBatchStore
    from docgen.heartbeat import live_workers
    from docgen.idempotency import RedisIdempotencyStore
    from docgen.jobs import RedisJobStore
    from docgen.limits import RedisLimitStore
    from docgen.metrics import RedisCounters, redis_queue_depths
    from docgen.objectstore import S3Store
    from docgen.queue import BATCH_QUEUE, NOTIFY_QUEUE, RENDER_QUEUE, DramatiqEnqueuer
    from docgen.storage import RedisVersionCounter
    from docgen.wakeup import WakingRedisBroker

    client = redis.Redis.from_url(settings.redis_url, socket_timeout=5, socket_connect_timeout=2)
    store = S3Store(settings.s3)
    jobs = RedisJobStore(client)
    # No middleware: the API only enqueues; retries and limits are the workers' business. The
    # client with timeouts: a Redis that hangs (rather than refuses) must give a 503, not a
    # request that never ends.
    broker = WakingRedisBroker(client=client, middleware=[])

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
        titles={a: f"附件{ATTACHMENT_NUMBERS[a]} {catalogue[a].title}" for a in ATTACHMENT_IDS},
        glyphs=FontCoverage(settings.converter.fontconfig_file),
        idempotency=RedisIdempotencyStore(client),
        batches=RedisBatchStore(client),
        limits=RedisLimitStore(client),
        metrics=MetricsSources(
            counters=RedisCounters(client),
            queue_depths=lambda: redis_queue_depths(
                client, (RENDER_QUEUE, BATCH_QUEUE, NOTIFY_QUEUE), broker.namespace
            ),
            workers=lambda: live_workers(client),
        ),
        versions=RedisVersionCounter(client),
        job_events=JobEvents(settings.redis_url),
    )


def create_app(settings: Settings, services: Services | None = None) -> Litestar:
    services = services or real_services(settings)
    base_url = settings.public_base_url
    delivery_settings = settings.delivery

    def resource(
        job: JobRecord, documents: list[DocumentRecord], delivery: Delivery | None = None
    ) -> dict[str, Any]:
        share = share_link(job, delivery_settings, base_url)
        return job_resource(job, documents, base_url, delivery, share)

    def webhook_problems(job_request: JobRequest) -> list[FieldProblem]:
        url = job_request.notify.webhook_url if job_request.notify else None
        if not url:
            return []
        try:
            check_url(
                url,
                allow_http=delivery_settings.webhook_allow_http,
                allow_private=delivery_settings.webhook_allow_private,
            )
        except DocgenError as exc:
            return [FieldProblem("notify.webhook_url", exc.code, exc.message, exc.message_en)]
        return []

    def idempotency_key(request: Request[Any, Any, Any]) -> str | None:
        key = request.headers.get("Idempotency-Key")
        if key is not None and not (0 < len(key) <= MAX_KEY_LENGTH and key.isprintable()):
            raise RequestInvalid(
                400,
                "Idempotency-Key 无效 / Invalid Idempotency-Key",
                [
                    FieldProblem(
                        "Idempotency-Key",
                        "idempotency_key.invalid",
                        f"Idempotency-Key 须为 1–{MAX_KEY_LENGTH} 个可打印字符",
                        f"Idempotency-Key must be 1–{MAX_KEY_LENGTH} printable characters",
                    )
                ],
            )
        return key

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
    async def create_job(request: Request[Any, Any, Any], caller: CallerDep) -> Response[bytes]:
        key = idempotency_key(request)
        tenant = caller.tenant
        # Before validation: a runaway client should not cost a 32 MiB parse per request either.
        await anyio.to_thread.run_sync(
            admit_job, settings.limits, services.limits, services.jobs, tenant
        )
        verdict = await check(request)
        job_request = verdict.request
        if job_request is not None and (refused := webhook_problems(job_request)):
            raise RequestInvalid(422, INVALID_TITLE, refused, verdict.warnings)
        if job_request is None:
            raise RequestInvalid(422, INVALID_TITLE, verdict.errors, verdict.warnings)
        # Stored as normalised (provinces in full): the worker renders exactly this.
        canonical = msgspec.json.encode(job_request)
        body_sha256 = hashlib.sha256(canonical).hexdigest()
        job_id = uuid.uuid4().hex
        if key is not None:
            claim = Claim(job_id, body_sha256)
            earlier = await anyio.to_thread.run_sync(services.idempotency.claim, tenant, key, claim)
            if earlier is not None:
                return await answer_repeat(key, earlier, body_sha256)
        notify = job_request.notify
        job = JobRecord(
            id=job_id,
            tenant=tenant,
            community_id=job_request.community_id,
            year=job_request.year,
            created_at=utcnow(),
            input_key=input_key(tenant, body_sha256),
            attachments=job_request.requested_attachments(),
            warnings=tuple(verdict.warnings),
            indicators=verdict.indicators,
            notify_emails=tuple(notify.emails) if notify else (),
            webhook_url=notify.webhook_url if notify else None,
            community_name=job_request.community.name,
        )

        def record_and_enqueue() -> None:
            # Record first, enqueue second (DESIGN §5.5): a message never points at nothing.
            services.store.put(job.input_key, canonical, "application/json")
            for attachment in job.attachments:
                put_latest_input(
                    services.store,
                    job.tenant,
                    LatestInput(
                        job.community_id,
                        job.year,
                        attachment,
                        job.input_key,
                        job.id,
                        job.created_at,
                        job_request.community.recommending_province,
                    ),
                )
            services.jobs.create(job)
            services.limits.add_open(job.tenant, job.id)
            for attachment in longest_first(job.attachments):
                services.enqueuer.enqueue_document(job.id, attachment)
            services.metrics.counters.add("docgen_jobs_total", {"status": "accepted"})

        try:
            # The thread gets a copy of this context: its lines (S3, Redis) name the job too.
            with about_job(job.id, job.tenant):
                await anyio.to_thread.run_sync(record_and_enqueue)
        except Exception:
            if key is not None:  # nothing was made: a retry with the key must be able to make it
                await anyio.to_thread.run_sync(services.idempotency.release, tenant, key)
            raise
        log.info(
            "job.accepted job_id=%s tenant=%s key_id=%s community_id=%s attachments=%s warnings=%d",
            job.id,
            job.tenant,
            caller.key_id,
            job.community_id,
            ",".join(job.attachments),
            len(job.warnings),
        )
        # Just recorded: every document is queued (no second read of the store needed).
        body = resource(job, [DocumentRecord(a) for a in job.attachments])
        return Response(
            msgspec.json.encode(body),
            status_code=202,
            media_type="application/json",
            headers={"Location": body["links"]["self"]},
        )

    async def answer_repeat(key: str, earlier: Claim, body_sha256: str) -> Response[bytes]:
        """A repeated `Idempotency-Key`: the first job, or 422 if the body is another one."""
        if earlier.body_sha256 != body_sha256:
            raise RequestInvalid(
                422,
                INVALID_TITLE,
                [
                    FieldProblem(
                        "Idempotency-Key",
                        "idempotency_key.reused",
                        "该 Idempotency-Key 已用于另一份数据，请换用新的键",
                        "This Idempotency-Key was used with a different body; use a new key",
                    )
                ],
            )
        found = await anyio.to_thread.run_sync(services.jobs.get, earlier.job_id)
        if found is None:  # the first request is still recording its job
            return problem(
                409,
                "同一 Idempotency-Key 的请求正在处理 / A request with this key is in progress",
                [
                    FieldProblem(
                        "Idempotency-Key",
                        "idempotency_key.in_progress",
                        "同一 Idempotency-Key 的请求正在处理，请稍后重试",
                        "A request with this Idempotency-Key is in progress; retry shortly",
                    )
                ],
                headers={"Retry-After": "1"},
            )
        log.info("job.repeated job_id=%s", earlier.job_id)
        delivery = await anyio.to_thread.run_sync(services.jobs.get_delivery, earlier.job_id)
        body = resource(*found, delivery)
        return Response(
            msgspec.json.encode(body),
            status_code=202,
            media_type="application/json",
            headers={"Location": body["links"]["self"], "Idempotent-Replayed": "true"},
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

    async def visible_job(
        caller: Caller, job_id: str
    ) -> tuple[JobRecord, list[DocumentRecord]] | None:
        """The job if the caller may see it: another tenant's job is as absent as none (404,
        not 403, so that ids do not reveal that a job exists)."""
        found = await anyio.to_thread.run_sync(services.jobs.get, job_id)
        return found if found is not None and caller.may_see(found[0].tenant) else None

    async def after_change(
        caller: Caller, job_id: str, found: tuple[JobRecord, list[DocumentRecord]], wait_s: float
    ) -> tuple[JobRecord, list[DocumentRecord]] | None:
        """The job once a document's status differs from `found`'s, or after `wait_s`."""
        if job_status(found[1]) in FINISHED or services.job_events.full:
            return found
        seen = [d.status for d in found[1]]
        current: tuple[JobRecord, list[DocumentRecord]] | None = found
        deadline = time.monotonic() + wait_s
        while (left := deadline - time.monotonic()) > 0:
            # Woken by the worker's announcement; without one (lost while Redis reconnects),
            # the job is read again after RECHECK_S all the same.
            await services.job_events.wait(job_id, min(left, RECHECK_S))
            current = await visible_job(caller, job_id)
            if current is None or [d.status for d in current[1]] != seen:
                break
        return current

    @get(
        "/v1/jobs/{job_id:str}",
        summary="A job's status and its documents",
        responses={200: _JOB, 404: _problem_spec("No such job (`job.not_found`)")},
    )
    async def get_job(
        job_id: FromPath[str],
        caller: CallerDep,
        wait: Annotated[
            float,
            QueryParameter(
                ge=0,
                le=MAX_WAIT_S,
                description="Seconds to wait for the job to change (a document starts or "
                "finishes) before answering; 0 answers at once. A finished job is answered at "
                "once.",
            ),
        ] = 0,
    ) -> Response[bytes]:
        found = await visible_job(caller, job_id)
        if found is not None and wait > 0:
            found = await after_change(caller, job_id, found, wait)
        if found is None:
            return job_not_found(job_id)
        delivery = await anyio.to_thread.run_sync(services.jobs.get_delivery, job_id)
        return Response(
            msgspec.json.encode(resource(*found, delivery)), media_type="application/json"
        )

    @get(
        "/v1/jobs/{job_id:str}/indicators",
        summary="The monitoring indicators (监测指标) of a job's data",
        responses={
            200: ResponseSpec(data_container=Indicators, description="监测指标"),
            404: _problem_spec("No such job, or no indicators recorded"),
        },
    )
    async def get_indicators(job_id: FromPath[str], caller: CallerDep) -> Response[bytes]:
        found = await visible_job(caller, job_id)
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
        job_id: FromPath[str], attachment: FromPath[str], kind: FromPath[str], caller: CallerDep
    ) -> Response[Any]:
        found = await visible_job(caller, job_id)
        document = None
        if found is not None and kind in ("pdf", "docx", "xlsx"):
            document = next((d for d in found[1] if d.attachment == attachment), None)
        key = getattr(document, f"{kind}_key", None) if document else None
        if document is None or document.status != "succeeded" or key is None:
            return problem(
                404, f"文件不存在或尚未生成 / No {kind} for {attachment} in job {job_id}"
            )
        return redirect_to(services, key, f"{services.file_stems[attachment]}.{kind}")

    @get(
        "/v1/jobs/{job_id:str}/bundle/{kind:str}",
        status_code=302,
        summary="The job's bundle: one PDF of every attachment (pdf) or every file (zip)",
    )
    async def bundle(
        job_id: FromPath[str], kind: FromPath[str], caller: CallerDep
    ) -> Response[Any]:
        if await visible_job(caller, job_id) is None:
            return job_not_found(job_id)
        delivery = await anyio.to_thread.run_sync(services.jobs.get_delivery, job_id)
        return bundle_redirect(services, delivery.bundle, kind)

    @get(
        "/v1/jobs",
        summary="The caller's jobs, newest first, in pages (`next` carries the cursor)",
    )
    async def list_job_page(
        caller: CallerDep,
        community_id: FromQuery[str | None] = None,
        year: FromQuery[int | None] = None,
        status: FromQuery[JobStatus | None] = None,
        since: FromQuery[dt.datetime | None] = None,
        limit: Annotated[int, QueryParameter(ge=1, le=200)] = 50,
        cursor: FromQuery[str | None] = None,
    ) -> Response[bytes]:
        query = JobQuery(community_id, year, status, since, limit, cursor)
        try:
            page = await anyio.to_thread.run_sync(list_jobs, services.jobs, caller.tenant, query)
        except ValueError:
            raise RequestInvalid(
                400,
                "分页游标无效 / Invalid cursor",
                [FieldProblem("cursor", "cursor.invalid", "分页游标无效", "Invalid cursor")],
            ) from None
        next_link = None
        if page.next_cursor is not None:
            params = {
                k: v
                for k, v in {
                    "community_id": community_id,
                    "year": year,
                    "status": status,
                    "since": since.isoformat() if since else None,
                    "limit": limit,
                    "cursor": page.next_cursor,
                }.items()
                if v is not None
            }
            next_link = f"{base_url}/v1/jobs?{urlencode(params)}"
        body = {
            "jobs": [resource(job, documents) for job, documents in page.jobs],
            "links": {"next": next_link},
        }
        return Response(msgspec.json.encode(body), media_type="application/json")

    @get("/health", summary="The process is alive", opt=OPEN)
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    @get("/ready", summary="Redis, S3 and a converter answer", opt=OPEN)
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

    listening: list[asyncio.Task[None]] = []

    async def listen_for_job_events() -> None:
        listening.append(asyncio.create_task(services.job_events.listen()))

    async def stop_listening() -> None:
        for task in listening:
            task.cancel()

    http_metrics = HttpMetrics()  # this process's requests; one per app, not global
    app = Litestar(
        route_handlers=[
            create_job,
            validate,
            list_job_page,
            get_job,
            get_indicators,
            download,
            bundle,
            health,
            ready,
            *document_routes(settings, services),
            *batch_routes(settings, services),
            metrics_route(services.metrics, http_metrics),
        ],
        on_startup=[load_fonts, listen_for_job_events],
        on_shutdown=[stop_listening],
        # Timing first: it sees the answers of authentication too.
        middleware=[RequestTiming(http_metrics), auth_middleware(KeyRing(settings.api_keys))],
        dependencies={"caller": caller_dependency},
        exception_handlers={
            TenantLimits: on_tenant_limits,
            RequestInvalid: on_request_invalid,
            DocgenError: on_docgen_error,
            HTTPException: on_http_exception,
            Exception: on_unexpected,
        },
        request_max_body_size=MAX_BODY_BYTES,
        # The process configures logging (docgen.logs): Litestar's own config would replace it.
        logging_config=None,
        openapi_config=OpenAPIConfig(
            title="行业产教融合共同体文档服务 / docgen", version="0.1.0", path="/schema"
        ),
    )
    _document_request_schemas(app)
    return app
