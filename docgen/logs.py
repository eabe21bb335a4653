"""Logs as one JSON object per line (`DOCGEN_LOG_FORMAT=json`), or text for people (`make up`).

Log calls stay `log.info("job.accepted job_id=%s tenant=%s", …)`: the first word is the event's
dotted name and `key=value` pairs become fields. The job a line is about (`job_id`, `tenant`) is
added from a context variable that the API handler and the worker's actors set, so that every
line of a job carries both, from the request through the worker, whatever logged it.

Personal data is never logged (PIPL): callers log ids, and as a second line of defence anything
that looks like an email address or a mainland mobile number is masked here.
"""

from __future__ import annotations

import contextlib
import contextvars
import datetime as dt
import json
import logging
import re
from collections.abc import Iterator
from typing import Any, Literal

__all__ = ["JsonFormatter", "LogFormat", "about_job", "configure_logging", "current_job"]

LogFormat = Literal["json", "text"]

_job: contextvars.ContextVar[tuple[str, str] | None] = contextvars.ContextVar(
    "docgen_job", default=None
)

_EVENT = re.compile(r"[a-z_]+(\.[a-z_]+)+$")
_PAIR = re.compile(r"(?<!\S)([a-z_]+)=(\S*)")
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(\.[\w-]+)+")
_MOBILE = re.compile(r"(?<!\d)1[3-9]\d{9}(?!\d)")


def current_job() -> tuple[str, str] | None:
    """(job_id, tenant) of the job being handled here, if any."""
    return _job.get()


@contextlib.contextmanager
def about_job(job_id: str, tenant: str) -> Iterator[None]:
    """Every line logged inside (by this thread or task) carries the job's id and tenant."""
    token = _job.set((job_id, tenant))
    try:
        yield
    finally:
        _job.reset(token)


def _masked(text: str) -> str:
    return _MOBILE.sub("[phone]", _EMAIL.sub("[email]", text))


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        message = _masked(record.getMessage())
        first, _, _ = message.partition(" ")
        entry: dict[str, Any] = {
            "time": dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(
                timespec="milliseconds"
            ),
            "level": record.levelname.lower(),
            "event": first if _EVENT.match(first) else record.name,
            "logger": record.name,
        }
        entry.update({k: v for k, v in _PAIR.findall(message) if k not in entry})
        job = _job.get()
        if job is not None:
            entry.setdefault("job_id", job[0])
            entry.setdefault("tenant", job[1])
        entry["message"] = message
        if record.exc_info:
            entry["exception"] = _masked(self.formatException(record.exc_info))
        return json.dumps(entry, ensure_ascii=False)


class _TextFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line = _masked(super().format(record))
        job = _job.get()
        if job is not None and f"job_id={job[0]}" not in line:
            line += f" job_id={job[0]} tenant={job[1]}"
        return line


def configure_logging(level: str, log_format: LogFormat) -> None:
    """The root logger of a process: one handler on stderr in the chosen format."""
    handler = logging.StreamHandler()
    handler.setFormatter(
        JsonFormatter()
        if log_format == "json"
        else _TextFormatter("%(asctime)s %(levelname)s %(name)s %(message)s")
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
