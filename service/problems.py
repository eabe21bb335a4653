"""RFC 9457 problem+json answers in the contract's shape; never a 500 for what a client sent."""

from __future__ import annotations

import logging

import msgspec
from litestar import Request, Response
from litestar.exceptions import HTTPException, ValidationException

from docgen.errors import DocgenError, FieldProblem, RequestInvalid
from docgen.limits import TenantLimits

__all__ = [
    "Problem",
    "on_docgen_error",
    "on_http_exception",
    "on_request_invalid",
    "on_tenant_limits",
    "on_unexpected",
    "problem",
]

log = logging.getLogger("docgen.api")


class Problem(msgspec.Struct, frozen=True):
    """The shape of every error answer (RFC 9457), for the OpenAPI document."""

    type: str
    title: str
    status: int
    detail: str
    errors: list[FieldProblem]
    # With 422: what the same request would also have been warned about.
    warnings: list[FieldProblem] = []


_TITLES = {
    400: "请求格式错误 / Bad request",
    401: "未认证 / Unauthorized",
    403: "无权访问 / Forbidden",
    404: "资源不存在 / Not found",
    405: "不支持的请求方法 / Method not allowed",
    413: "请求体过大（上限 32 MiB） / Request body too large (limit 32 MiB)",
    409: "请求冲突 / Conflict",
    429: "请求过多，请稍后重试 / Too many requests",
    415: "不支持的媒体类型 / Unsupported media type",
    422: "请求数据未通过校验 / Request validation failed",
    503: "服务暂不可用，请稍后重试 / Service unavailable, retry later",
}


def problem(
    status: int,
    detail: str,
    errors: list[FieldProblem] | None = None,
    title: str | None = None,
    headers: dict[str, str] | None = None,
    warnings: list[FieldProblem] | None = None,
) -> Response[bytes]:
    body: dict[str, object] = {
        "type": "about:blank",
        "title": title or _TITLES.get(status, "错误 / Error"),
        "status": status,
        "detail": detail,
        "errors": errors or [],
    }
    if warnings:
        body["warnings"] = warnings
    return Response(
        msgspec.json.encode(body),
        status_code=status,
        media_type="application/problem+json",
        headers=headers,
    )


def on_request_invalid(_: Request, exc: RequestInvalid) -> Response[bytes]:
    if not exc.problems:
        return problem(exc.status, exc.title, [], exc.title, warnings=exc.warnings)
    first = exc.problems[0]
    detail = f"{first.path or '请求体'}：{first.message}"
    if len(exc.problems) > 1:
        detail += f"（另有 {len(exc.problems) - 1} 项，见 errors）"
    return problem(exc.status, detail, exc.problems, exc.title, warnings=exc.warnings)


def on_tenant_limits(_: Request, exc: TenantLimits) -> Response[bytes]:
    error = exc.error
    return problem(
        429,
        f"{error.message} / {error.message_en}",
        [FieldProblem("", error.code, error.message, error.message_en)],
        headers={"Retry-After": str(exc.retry_after_s)},
    )


def on_docgen_error(request: Request, exc: DocgenError) -> Response[bytes]:
    if exc.retryable:
        log.warning(
            "api.unavailable path=%s code=%s detail=%s", request.url.path, exc.code, exc.detail
        )
        return problem(
            503,
            f"{exc.message} / {exc.message_en}",
            [FieldProblem("", exc.code, exc.message, exc.message_en)],
            headers={"Retry-After": "5"},
        )
    log.error("api.error path=%s code=%s detail=%s", request.url.path, exc.code, exc.detail)
    return problem(
        500,
        f"{exc.message} / {exc.message_en}",
        [FieldProblem("", exc.code, exc.message, exc.message_en)],
    )


def on_http_exception(_: Request, exc: HTTPException) -> Response[bytes]:
    status = exc.status_code
    code = {
        400: "request.bad",
        404: "not_found",
        405: "method.not_allowed",
        413: "body.too_large",
        415: "media_type.unsupported",
    }.get(status, f"http.{status}")
    title = _TITLES.get(status, "错误 / Error")
    return problem(
        status,
        title,
        _parameter_problems(exc, code)
        or [FieldProblem("", code, title.split(" / ")[0], title.split(" / ")[-1])],
        headers=exc.headers,
    )


def _parameter_problems(exc: HTTPException, code: str) -> list[FieldProblem]:
    """Litestar's own check of a query or path parameter (`?limit=0`) names the parameter in
    `extra`: the answer names it too, as the body's checks name their fields."""
    if not isinstance(exc, ValidationException) or not isinstance(exc.extra, list):
        return []
    found = []
    for item in exc.extra:
        if isinstance(item, dict) and item.get("key"):
            key, why = str(item["key"]), item.get("message")
            english = f"Invalid value for {key}" + (f": {why}" if why else "")
            found.append(FieldProblem(key, code, f"参数 {key} 的值无效", english))
    return found


def _unavailable(exc: Exception) -> DocgenError:
    return DocgenError(
        "queue.unavailable",
        "任务队列暂不可用，请稍后重试",
        "The job queue is unavailable; retry later",
        retryable=True,
        detail=repr(exc),
    )


def on_unexpected(request: Request, exc: Exception) -> Response[bytes]:
    if _is_redis_error(exc):  # Redis down on a path that did not translate it: still a 503
        return on_docgen_error(request, _unavailable(exc))
    log.exception("api.crashed path=%s", request.url.path, exc_info=exc)
    return problem(500, "服务内部错误 / Internal server error")


def _is_redis_error(exc: BaseException) -> bool:
    # By module rather than by import: the service reaches Redis only through docgen's adapters
    # (which translate their errors), so this is the net under a path that forgot to.
    return any(cls.__module__.startswith("redis.") for cls in type(exc).__mro__)
