"""Who is calling: an API key in `Authorization: Bearer …` or `X-API-Key`, checked on every route
but the open ones (`/health`, `/ready`, `/schema`, the signed `/v1/shared/…` links).

The key itself is hashed at once and never logged; logs name the key's id.
"""

from __future__ import annotations

from typing import Any

from litestar import Request
from litestar.connection import ASGIConnection
from litestar.di import NamedDependency, Provide
from litestar.handlers import BaseRouteHandler
from litestar.middleware import (
    AbstractAuthenticationMiddleware,
    AuthenticationResult,
    DefineMiddleware,
)

from docgen.errors import FieldProblem, RequestInvalid
from docgen.keys import Caller, KeyRing

__all__ = [
    "OPEN",
    "CallerDep",
    "admin_only",
    "auth_middleware",
    "caller_dependency",
    "presented_key",
]

# On a handler: no key needed (health checks, and links whose token is the grant).
OPEN = {"exclude_from_auth": True}


def presented_key(headers: Any) -> str | None:
    authorization = headers.get("authorization", "")
    scheme, _, value = authorization.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return str(value.strip())
    key = headers.get("x-api-key", "").strip()
    return str(key) if key else None


def _unauthenticated(code: str, message: str, message_en: str) -> RequestInvalid:
    return RequestInvalid(
        401,
        "未认证 / Unauthorized",
        [FieldProblem("Authorization", code, message, message_en)],
    )


class _KeyAuthentication(AbstractAuthenticationMiddleware):
    def __init__(self, app: Any, keyring: KeyRing, exclude: list[str]) -> None:
        super().__init__(app, exclude=exclude)
        self.keyring = keyring

    async def authenticate_request(self, connection: ASGIConnection[Any, Any, Any, Any]) -> Any:
        key = presented_key(connection.headers)
        if key is None:
            raise _unauthenticated(
                "auth.missing",
                "缺少 API 密钥：请在 Authorization: Bearer 或 X-API-Key 头中提供",
                "Missing API key: send Authorization: Bearer <key> or X-API-Key",
            )
        caller = self.keyring.identify(key)
        if caller is None:
            raise _unauthenticated("auth.invalid", "API 密钥无效", "Invalid API key")
        return AuthenticationResult(user=caller, auth=caller.key_id)


def auth_middleware(keyring: KeyRing) -> DefineMiddleware:
    # /schema is Litestar's own controller: excluded by path rather than by handler option.
    return DefineMiddleware(_KeyAuthentication, keyring=keyring, exclude=["^/schema"])


def admin_only(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    """Guard of operators' routes: batches, metrics."""
    caller: Caller = connection.user
    if not caller.is_admin:
        raise RequestInvalid(
            403,
            "无权访问 / Forbidden",
            [
                FieldProblem(
                    "Authorization",
                    "auth.forbidden",
                    "该操作仅限管理员密钥",
                    "This operation needs an admin key",
                )
            ],
        )


def _caller(request: Request[Any, Any, Any]) -> Caller:
    user: Caller = request.user
    return user


caller_dependency = Provide(_caller, sync_to_thread=False)
# A handler's `caller: CallerDep` parameter: the authenticated caller of the request.
CallerDep = NamedDependency[Caller]
