"""Scenario 8: a template with a Jinja syntax error, and one whose expression fails on the data.

The worker runs with a copy of the templates where 附件1's signature line lost a `}` and 附件4
divides the date by zero. A job asking for all five attachments ends `partial`: those two
documents fail at once (no retries) with a reason naming the template, the line and its text;
the other three are stored.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from tests.broken_templates import RUNTIME_ERROR, SYNTAX_ERROR, templates_with
from tests.conftest import S3Server
from tests.faults.conftest import Outcome, OwnRedis, job_body, report, running, submit
from tests.stack import service_env

pytestmark = pytest.mark.faults


def test_a_broken_template_fails_its_document_with_the_line_and_the_job_goes_on(
    own_redis: OwnRedis, s3_server: S3Server, sample_dict: dict[str, Any], tmp_path: Path
) -> None:
    (tmp_path / "templates").mkdir()
    templates = templates_with(
        tmp_path / "templates",
        {"industry_analysis": SYNTAX_ERROR, "annual_report": RUNTIME_ERROR},
    )
    env = service_env(
        own_redis.url,
        s3_server,
        "faults-template",
        templates_dir=str(templates),
        converter_pool_size="1",  # one LibreOffice is enough here and starts sooner
    )
    with running(env, tmp_path / "logs") as service:
        started = time.monotonic()
        body = job_body(sample_dict, "faults-template", sample_dict["attachments"])
        outcome = Outcome(service, [submit(service, body)], timeout_s=180)
        took = time.monotonic() - started
        (job,) = outcome.jobs
        assert job["status"] == "partial", job
        docs = {doc["attachment"]: doc for doc in job["documents"]}

        attempts = outcome.attempts()
        assert attempts[(job["id"], "industry_analysis")] == 1, "a broken template is not retried"
        assert attempts[(job["id"], "annual_report")] == 1, "a failing expression is not retried"

        syntax = docs["industry_analysis"]
        assert syntax["status"] == "failed", syntax
        assert syntax["error"]["code"] == "render.template_syntax"
        assert "附件1-行业发展分析报告.docx 第 13 行" in syntax["error"]["message"]
        assert "{{ community.lead_enterprise.name }（盖章）" in syntax["error"]["message"]

        runtime = docs["annual_report"]
        assert runtime["status"] == "failed", runtime
        assert runtime["error"]["code"] == "render.failed"
        assert "附件4-年度总结报告.docx 第" in runtime["error"]["message"]
        assert "{{ signed_on / 0 }}" in runtime["error"]["message"]

        for attachment in ("talent_forecast", "supply_demand", "application"):
            assert docs[attachment]["status"] == "succeeded", docs[attachment]
        fsck_report = outcome.check()
        report(
            "8 malformed template",
            jobs=1,
            documents="3 succeeded/2 failed",
            retries=outcome.retries(),
            seconds=f"{took:.1f}",
            fsck_checked=fsck_report.get("checked"),
        )
        print(f"  {syntax['error']['message']}\n  {runtime['error']['message']}")
