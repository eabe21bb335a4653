"""Collecting what is wrong with a request: errors and warnings with contract paths.

Paths are dotted with list indices and no leading `$` (`community.members[3].code`). Values a
submitter sent are quoted in messages only through `quote`, which makes them printable and short:
a message must never carry a lone surrogate (it could not be encoded) or a whole 20,000-character
text back to the caller.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable

from docgen.errors import FieldProblem

__all__ = ["MAX_PROBLEMS", "Findings", "code_point", "field", "index", "quote", "safe_text"]

# A 32 MiB body of 20,000 wrong rows could produce hundreds of thousands of items; nobody reads
# past the first few hundred, and the answer must stay small. What is left off is counted.
MAX_PROBLEMS = 1000


def field(path: str, name: str) -> str:
    return f"{path}.{safe_text(name)}" if path else safe_text(name)


def index(path: str, i: int) -> str:
    return f"{path}[{i}]"


def code_point(ch: str) -> str:
    return f"U+{ord(ch):04X}"


def _unsafe(ch: str) -> bool:
    return unicodedata.category(ch) in ("Cc", "Cs", "Cn")


def safe_text(text: str) -> str:
    """`text` with control characters, surrogates and unassigned code points written as U+XXXX."""
    if text.isprintable():  # the usual case, decided in C: no Cc, Cs or Cn in it
        return text
    return "".join(f"<{code_point(ch)}>" if _unsafe(ch) else ch for ch in text)


def quote(value: str, limit: int = 40) -> str:
    """A submitted value for a message: printable and at most `limit` characters."""
    shown = safe_text(value)
    if len(shown) > limit:
        shown = shown[:limit] + "…"
    return shown


class Findings:
    """Errors and warnings in the order found, each list capped at `limit` items."""

    def __init__(self, limit: int = MAX_PROBLEMS) -> None:
        self._limit = limit
        self._errors: list[FieldProblem] = []
        self._warnings: list[FieldProblem] = []
        self._errors_left_off = 0
        self._warnings_left_off = 0

    def error(self, path: str, code: str, message: str, message_en: str) -> None:
        if len(self._errors) < self._limit:
            self._errors.append(FieldProblem(path, code, message, message_en))
        else:
            self._errors_left_off += 1

    def warn(self, path: str, code: str, message: str, message_en: str) -> None:
        if len(self._warnings) < self._limit:
            self._warnings.append(FieldProblem(path, code, message, message_en))
        else:
            self._warnings_left_off += 1

    def add_errors(self, problems: Iterable[FieldProblem]) -> None:
        for p in problems:
            self.error(p.path, p.code, p.message, p.message_en)

    @property
    def has_errors(self) -> bool:
        return bool(self._errors)

    @property
    def errors(self) -> list[FieldProblem]:
        return self._errors + _left_off(self._errors_left_off, "错误", "errors")

    @property
    def warnings(self) -> list[FieldProblem]:
        return self._warnings + _left_off(self._warnings_left_off, "警告", "warnings")


def _left_off(count: int, zh: str, en: str) -> list[FieldProblem]:
    if not count:
        return []
    return [
        FieldProblem(
            "",
            "problems.truncated",
            f"另有 {count} 处{zh}未列出（每次最多列出 {MAX_PROBLEMS} 处）",
            f"{count} more {en} not listed (at most {MAX_PROBLEMS} are listed)",
        )
    ]
