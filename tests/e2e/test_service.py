"""The whole path as a platform uses it: HTTP → Redis → worker → LibreOffice → S3 → download link.

Every part is a real process: the API (`docgen serve`), a worker with its own LibreOffice
(`docgen worker`), the tests' Redis and SeaweedFS.
"""

from __future__ import annotations

import json
import os
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from docgen.processes import ManagedProcess, free_port, wait_until
from tests.conftest import S3Server
from tests.pdftext import missing_values
from tests.values import expected_values

pytestmark = pytest.mark.e2e
AUTH = {"Authorization": "Bearer dev-client-key"}


@pytest.fixture(scope="module")
def api_url(
    redis_url: str, s3_server: S3Server, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    logs = tmp_path_factory.mktemp("e2e-logs")
    port = free_port()
    env = {
        **os.environ,
        "DOCGEN_REDIS_URL": redis_url,
        "DOCGEN_S3_ENDPOINT": s3_server.endpoint,
        "DOCGEN_S3_ACCESS_KEY": s3_server.access_key,
        "DOCGEN_S3_SECRET_KEY": s3_server.secret_key,
        "DOCGEN_S3_BUCKET": "docgen-e2e",
        "DOCGEN_PUBLIC_BASE_URL": f"http://127.0.0.1:{port}",
    }
    docgen = [sys.executable, "-m", "commands.main"]
    root = Path(__file__).resolve().parents[2]
    worker = ManagedProcess(
        "worker", [*docgen, "worker"], env=env, cwd=root, log_path=logs / "worker.log"
    )
    api = ManagedProcess(
        "api", [*docgen, "serve", "--port", str(port)], env=env, cwd=root, log_path=logs / "api.log"
    )
    url = f"http://127.0.0.1:{port}"

    def ready() -> bool:
        try:
            return httpx.get(f"{url}/ready", timeout=2).status_code == 200
        except httpx.HTTPError:
            return False

    try:
        wait_until(ready, 120, "api and worker", alive=lambda: api.alive() and worker.alive())
    except (TimeoutError, RuntimeError) as exc:
        api.stop()
        worker.stop()
        pytest.fail(f"{exc}\n--- api ---\n{api.log_tail()}\n--- worker ---\n{worker.log_tail()}")
    yield url
    api.stop()
    worker.stop()


def wait_for_job(api_url: str, location: str, timeout_s: float = 120) -> dict[str, Any]:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        job: dict[str, Any] = httpx.get(location, headers=AUTH, timeout=5).json()
        if job["status"] in ("succeeded", "partial", "failed"):
            return job
        time.sleep(0.5)  # polling interval, not a wait for a result
    raise TimeoutError(f"job {location} still {job['status']} after {timeout_s} s")


def test_a_posted_sample_becomes_downloadable_pdfs_with_every_value(
    api_url: str, sample_bytes: bytes
) -> None:
    response = httpx.post(
        f"{api_url}/v1/jobs",
        content=sample_bytes,
        headers={**AUTH, "Content-Type": "application/json"},
        timeout=30,
    )
    assert response.status_code == 202, response.text
    job = wait_for_job(api_url, response.headers["location"])
    assert job["status"] == "succeeded", job
    assert job["finished_at"] is not None
    sample = json.loads(sample_bytes)
    for document in job["documents"]:
        assert document["version"] >= 1 and document["pages"] >= 1
        assert document["pdf_url"].startswith(api_url)
        redirect = httpx.get(document["pdf_url"], headers=AUTH, follow_redirects=False)
        assert redirect.status_code == 302
        with urllib.request.urlopen(redirect.headers["location"]) as download:
            pdf = download.read()
            assert "filename*=UTF-8''" in download.headers["Content-Disposition"]
        assert pdf.startswith(b"%PDF")
        assert missing_values(pdf, expected_values(sample, document["attachment"])) == []
        docx = httpx.get(document["docx_url"], follow_redirects=True)
        assert docx.content.startswith(b"PK")


def test_the_same_data_again_reuses_the_stored_versions(
    api_url: str, sample_dict: dict[str, Any]
) -> None:
    sample_dict["attachments"] = ["industry_analysis"]
    body = json.dumps(sample_dict).encode()
    first = wait_for_job(
        api_url, httpx.post(f"{api_url}/v1/jobs", content=body, headers=AUTH).headers["location"]
    )
    second = wait_for_job(
        api_url, httpx.post(f"{api_url}/v1/jobs", content=body, headers=AUTH).headers["location"]
    )
    assert second["documents"][0]["reused"] is True
    assert second["documents"][0]["version"] == first["documents"][0]["version"]


def test_changed_data_makes_a_new_version(api_url: str, sample_dict: dict[str, Any]) -> None:
    sample_dict["attachments"] = ["annual_report"]
    sample_dict["annual_report"]["problems"] = "第一版的问题描述。"
    first = wait_for_job(
        api_url,
        httpx.post(f"{api_url}/v1/jobs", json=sample_dict, headers=AUTH).headers["location"],
    )
    sample_dict["annual_report"]["problems"] = "修订后的问题描述。"
    second = wait_for_job(
        api_url,
        httpx.post(f"{api_url}/v1/jobs", json=sample_dict, headers=AUTH).headers["location"],
    )
    assert second["documents"][0]["version"] == first["documents"][0]["version"] + 1
    assert second["documents"][0]["reused"] is False


def test_bad_input_gets_problem_answers_over_http(
    api_url: str, sample_dict: dict[str, Any]
) -> None:
    malformed = httpx.post(f"{api_url}/v1/jobs", content=b"{not json", headers=AUTH)
    assert malformed.status_code == 400
    assert malformed.headers["content-type"] == "application/problem+json"
    sample_dict["application"]["plan"]["core_courses"][1] = "十五"
    wrong = httpx.post(f"{api_url}/v1/jobs", json=sample_dict, headers=AUTH)
    assert wrong.status_code == 422
    assert wrong.json()["errors"][0]["path"] == "application.plan.core_courses[1]"
    assert httpx.get(f"{api_url}/v1/jobs/unknown", headers=AUTH).status_code == 404


def test_validation_and_indicators_over_http(api_url: str, sample_dict: dict[str, Any]) -> None:
    sample_dict["attachments"] = ["industry_analysis"]
    sample_dict["industry_analysis"]["signed_on"] = "2026-06-01"  # late: a warning, accepted
    checked = httpx.post(f"{api_url}/v1/validate", json=sample_dict, headers=AUTH, timeout=30)
    assert checked.status_code == 200
    assert checked.json()["valid"] is True
    assert [w["code"] for w in checked.json()["warnings"]] == ["date.outside_calendar"]
    posted = httpx.post(f"{api_url}/v1/jobs", json=sample_dict, headers=AUTH, timeout=30)
    assert posted.status_code == 202
    job = httpx.get(posted.headers["location"], headers=AUTH).json()  # read back from Redis
    assert [w["code"] for w in job["warnings"]] == ["date.outside_calendar"]
    assert job["indicators"]["members_total"] == 18
    figures = httpx.get(job["indicators"]["url"], headers=AUTH)
    assert figures.status_code == 200
    assert figures.json()["provinces"]["covered"] == 10
    wait_for_job(api_url, posted.headers["location"])  # leave no work behind for other tests
