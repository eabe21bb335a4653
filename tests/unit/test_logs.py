"""Structured logs: one JSON object a line, the job's id and tenant on every line about it."""

from __future__ import annotations

import json
import logging

import pytest

from docgen.logs import JsonFormatter, about_job
from docgen.settings import SettingsError, load_settings


def _line(message: str, *args: object) -> dict[str, object]:
    record = logging.LogRecord("docgen.test", logging.INFO, __file__, 1, message, args, None)
    entry: dict[str, object] = json.loads(JsonFormatter().format(record))
    return entry


def test_a_line_is_one_json_object_with_event_level_time_and_its_pairs() -> None:
    entry = _line("document.succeeded job_id=%s attachment=%s version=%s", "j1", "application", 3)
    assert entry["event"] == "document.succeeded"
    assert entry["level"] == "info"
    assert str(entry["time"]).endswith("+00:00")
    assert (entry["job_id"], entry["attachment"], entry["version"]) == ("j1", "application", "3")


def test_every_line_inside_a_job_carries_its_id_and_tenant() -> None:
    with about_job("j2", "gd"):
        entry = _line("s3.slow key=%s", "x")
    assert (entry["job_id"], entry["tenant"]) == ("j2", "gd")
    assert "job_id" not in _line("s3.slow key=%s", "x")


def test_emails_and_mobile_numbers_never_reach_the_log() -> None:
    entry = _line("notification.failed to=%s phone=%s", "zhang.san@example.cn", "13812345678")
    assert "example.cn" not in json.dumps(entry) and "13812345678" not in json.dumps(entry)


def test_the_log_format_is_a_setting_json_by_default() -> None:
    assert load_settings({}).log_format == "json"
    assert load_settings({"DOCGEN_LOG_FORMAT": "text"}).log_format == "text"
    with pytest.raises(SettingsError, match="DOCGEN_LOG_FORMAT"):
        load_settings({"DOCGEN_LOG_FORMAT": "xml"})
