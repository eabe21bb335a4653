"""Errors with a stable code, a retry hint, and public messages kept apart from logged detail."""

from __future__ import annotations

import msgspec

__all__ = ["DocgenError", "FieldProblem", "RequestInvalid"]


class FieldProblem(msgspec.Struct, frozen=True):
    """One failing field of a request: the item shape of the contract's `errors` and `warnings`."""

    path: str
    code: str
    message: str
    message_en: str


class DocgenError(Exception):
    """A failure that people may read: `message` is Chinese, `message_en` for integrators.

    `detail` is for logs only; it may name internals and never reaches a client.
    """

    def __init__(
        self,
        code: str,
        message: str,
        message_en: str,
        *,
        retryable: bool = False,
        detail: str = "",
    ) -> None:
        super().__init__(f"{code}: {message_en}" + (f" ({detail})" if detail else ""))
        self.code = code
        self.message = message
        self.message_en = message_en
        self.retryable = retryable
        self.detail = detail


class RequestInvalid(Exception):
    """A request the service refuses: HTTP `status`, every failing field found, and the warnings
    the same request raised (so a submitter fixing it sees them at once)."""

    def __init__(
        self,
        status: int,
        title: str,
        problems: list[FieldProblem],
        warnings: list[FieldProblem] | None = None,
    ) -> None:
        super().__init__(title)
        self.status = status
        self.title = title
        self.problems = problems
        self.warnings = warnings or []
