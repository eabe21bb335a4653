"""The whole path as a platform uses it: HTTP → Redis → worker → LibreOffice → S3 → download link.

Every part is a real process: the API (`docgen serve`), a worker with its own LibreOffice
(`docgen worker`), the tests' Redis and SeaweedFS.
"""

from __future__ import annotations

import hashlib
import io
import json
import re
import subprocess
import time
import urllib.request
import zipfile
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest
from pypdf import PdfReader

from docgen.links import LinkGrant, sign_link
from docgen.processes import wait_until
from docgen.webhooks import verify
from tests.conftest import S3Server
from tests.pdftext import missing_values
from tests.receivers import MailCatcher, WebhookReceiver
from tests.stack import DOCGEN, ROOT, Service, service_env, smtp_to, wait_for_job
from tests.values import expected_values

pytestmark = pytest.mark.e2e
AUTH = {"Authorization": "Bearer dev-client-key"}
LINK_SECRET = "e2e link secret, at least thirty-two characters"
WEBHOOK_SECRET = "e2e webhook secret"


@pytest.fixture(scope="module")
def service(
    redis_url: str,
    s3_server: S3Server,
    mail: MailCatcher,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Service]:
    env = service_env(
        redis_url,
        s3_server,
        "docgen-e2e",
        link_secret=LINK_SECRET,
        **smtp_to(mail.port),
        webhook_secret=WEBHOOK_SECRET,
    )
    running = Service(env, tmp_path_factory.mktemp("e2e-logs"))
    yield running
    running.stop()


@pytest.fixture(scope="module")
def api_url(service: Service) -> str:
    return service.url


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
    job = wait_for_job(response.headers["location"])
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
        docx = httpx.get(document["docx_url"], headers=AUTH, follow_redirects=True)
        assert docx.content.startswith(b"PK")


def test_another_tenant_sees_none_of_a_job_and_no_key_is_a_401(
    api_url: str, sample_dict: dict[str, Any]
) -> None:
    sample_dict["attachments"] = ["industry_analysis"]
    posted = httpx.post(f"{api_url}/v1/jobs", json=sample_dict, headers=AUTH, timeout=30)
    job = wait_for_job(posted.headers["location"])
    other = {"X-API-Key": "dev-other-key"}
    community = f"{api_url}/v1/communities/{sample_dict['community_id']}/documents"
    for url in (
        posted.headers["location"],
        job["documents"][0]["pdf_url"],
        f"{community}/industry_analysis/versions/1/pdf?year={sample_dict['year']}",
    ):
        assert httpx.get(url, headers=other).status_code == 404, url
        assert httpx.get(url).status_code == 401, url
    listed = httpx.get(community, params={"year": sample_dict["year"]}, headers=other).json()
    assert listed["documents"] == []
    mine = httpx.get(
        f"{api_url}/v1/jobs", params={"community_id": job["community_id"]}, headers=AUTH
    )
    assert job["id"] in [j["id"] for j in mine.json()["jobs"]]


def test_the_same_data_again_reuses_the_stored_versions(
    api_url: str, sample_dict: dict[str, Any]
) -> None:
    sample_dict["attachments"] = ["industry_analysis"]
    body = json.dumps(sample_dict).encode()
    first = wait_for_job(
        httpx.post(f"{api_url}/v1/jobs", content=body, headers=AUTH).headers["location"]
    )
    second = wait_for_job(
        httpx.post(f"{api_url}/v1/jobs", content=body, headers=AUTH).headers["location"]
    )
    assert second["documents"][0]["reused"] is True
    assert second["documents"][0]["version"] == first["documents"][0]["version"]


def test_changed_data_makes_a_new_version(api_url: str, sample_dict: dict[str, Any]) -> None:
    sample_dict["attachments"] = ["annual_report"]
    sample_dict["annual_report"]["problems"] = "第一版的问题描述。"
    first = wait_for_job(
        httpx.post(f"{api_url}/v1/jobs", json=sample_dict, headers=AUTH).headers["location"],
    )
    sample_dict["annual_report"]["problems"] = "修订后的问题描述。"
    second = wait_for_job(
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
    wait_for_job(posted.headers["location"])  # leave no work behind for other tests


def wait_for_notifications(location: str, timeout_s: float = 60) -> dict[str, Any]:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        job: dict[str, Any] = httpx.get(location, headers=AUTH, timeout=5).json()
        notes = job["notifications"]
        if notes and all(n["status"] != "queued" for n in notes):
            return job
        time.sleep(0.5)  # polling interval
    raise TimeoutError(f"notifications of {location} still pending: {job['notifications']}")


def _links(text: str) -> list[str]:
    return re.findall(r"https?://[^\s<>\"]+", text)


def test_submitters_get_an_email_whose_links_give_the_documents_and_the_platform_a_signed_webhook(
    api_url: str, sample_dict: dict[str, Any], mail: MailCatcher, webhooks: WebhookReceiver
) -> None:
    sample_dict["attachments"] = ["supply_demand", "application"]
    sample_dict["notify"] = {
        "emails": ["teacher@school.example.cn", "clerk@enterprise.example.cn"],
        "webhook_url": webhooks.url,
    }
    response = httpx.post(f"{api_url}/v1/jobs", json=sample_dict, headers=AUTH, timeout=30)
    assert response.status_code == 202, response.text
    assert response.json()["share_url"].startswith(f"{api_url}/v1/shared/")
    job = wait_for_job(response.headers["location"])
    assert job["status"] == "succeeded"
    job = wait_for_notifications(response.headers["location"])
    assert sorted((n["channel"], n["status"], n["attempts"]) for n in job["notifications"]) == [
        ("email", "sent", 1),
        ("email", "sent", 1),
        ("webhook", "sent", 1),
    ]

    # The email: subject, both parts, and a link that gives the 申报书's PDF without any key.
    [message] = mail.to("teacher@school.example.cn")
    assert len(mail.to("clerk@enterprise.example.cn")) == 1
    name = sample_dict["community"]["name"]
    assert message["Subject"] == f"【共同体文书】{name} 2026年度材料已生成"
    text = message.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    html = message.get_body(("html",)).get_content()  # type: ignore[union-attr]
    assert "附件5" in text and "附件5" in html
    pdf_link = next(u for u in _links(text) if u.endswith("/documents/application/pdf"))
    redirect = httpx.get(pdf_link, follow_redirects=False)
    assert redirect.status_code == 302
    with urllib.request.urlopen(redirect.headers["location"]) as download:
        pdf = download.read()
    assert pdf.startswith(b"%PDF")
    assert missing_values(pdf, expected_values(sample_dict, "application")) == []
    xlsx_link = next(u for u in _links(text) if u.endswith("/documents/supply_demand/xlsx"))
    assert httpx.get(xlsx_link, follow_redirects=True).content.startswith(b"PK")
    shared = httpx.get(job["share_url"]).json()
    assert [d["attachment"] for d in shared["documents"]] == ["supply_demand", "application"]

    # The bundle: one PDF with every page, one ZIP with every file.
    bundle = httpx.get(job["bundle"]["pdf_url"], headers=AUTH, follow_redirects=True).content
    pages = sum(d["pages"] for d in job["documents"])
    assert len(PdfReader(io.BytesIO(bundle)).pages) == pages
    archive = httpx.get(job["bundle"]["zip_url"], headers=AUTH, follow_redirects=True).content
    names = zipfile.ZipFile(io.BytesIO(archive)).namelist()
    assert len(names) == 5 and any(n.endswith(".xlsx") for n in names)

    # The webhook: the job as the API shows it, signed with the configured secret.
    [(headers, body)] = [c for c in webhooks.calls if json.loads(c[1])["job"]["id"] == job["id"]]
    assert verify(headers["X-Docgen-Signature"], body, WEBHOOK_SECRET.encode())
    event = json.loads(body)
    assert event["event"] == "job.finished" and event["job"]["status"] == "succeeded"


def test_a_forged_or_expired_link_is_refused(api_url: str, sample_dict: dict[str, Any]) -> None:
    sample_dict["attachments"] = ["industry_analysis"]
    job = wait_for_job(
        httpx.post(f"{api_url}/v1/jobs", json=sample_dict, headers=AUTH).headers["location"],
    )
    token = job["share_url"].rsplit("/", 1)[1]
    forged = token[:-3] + ("abc" if not token.endswith("abc") else "xyz")
    answer = httpx.get(f"{api_url}/v1/shared/{forged}/documents/industry_analysis/pdf")
    assert answer.status_code == 403
    assert answer.json()["errors"][0]["code"] == "link.invalid"
    expired = sign_link(
        LinkGrant("default", job["community_id"], job["year"], job["id"], int(time.time()) - 1),
        LINK_SECRET.encode(),
    )
    answer = httpx.get(f"{api_url}/v1/shared/{expired}")
    assert answer.status_code == 403
    assert answer.json()["errors"][0]["code"] == "link.expired"
    assert "过期" in answer.json()["errors"][0]["message"]


def test_one_idempotency_key_sent_many_times_at_once_makes_one_job(
    api_url: str, sample_dict: dict[str, Any]
) -> None:
    sample_dict["attachments"] = ["industry_analysis"]
    key = {"Idempotency-Key": f"platform-retry-{time.time_ns()}", **AUTH}
    with ThreadPoolExecutor(8) as pool:
        answers = list(
            pool.map(
                lambda _: httpx.post(
                    f"{api_url}/v1/jobs", json=sample_dict, headers=key, timeout=30
                ),
                range(8),
            )
        )
    ids = set()
    for answer in answers:
        if answer.status_code == 409:  # the first was still recording: the client retries
            answer = httpx.post(f"{api_url}/v1/jobs", json=sample_dict, headers=key, timeout=30)
        assert answer.status_code == 202, answer.text
        ids.add(answer.json()["id"])
    assert len(ids) == 1
    sample_dict["industry_analysis"]["trends"] = "另一份数据。"
    reused = httpx.post(f"{api_url}/v1/jobs", json=sample_dict, headers=key, timeout=30)
    assert reused.status_code == 422
    assert reused.json()["errors"][0]["code"] == "idempotency_key.reused"


def test_concurrent_jobs_for_one_community_get_consecutive_versions(
    api_url: str, sample_dict: dict[str, Any]
) -> None:
    sample_dict["community_id"] = f"versions-{time.time_ns()}"
    sample_dict["attachments"] = ["annual_report"]
    bodies = []
    for n in range(4):
        sample_dict["annual_report"]["problems"] = f"第{n + 1}稿的问题描述。"
        bodies.append(json.dumps(sample_dict, ensure_ascii=False).encode())
    with ThreadPoolExecutor(4) as pool:
        locations = list(
            pool.map(
                lambda b: httpx.post(f"{api_url}/v1/jobs", content=b, headers=AUTH).headers[
                    "location"
                ],
                bodies,
            )
        )
    versions = sorted(wait_for_job(loc)["documents"][0]["version"] for loc in locations)
    assert versions == [1, 2, 3, 4]
    listed = httpx.get(
        f"{api_url}/v1/communities/{sample_dict['community_id']}/documents/annual_report/versions",
        params={"year": 2026},
        headers=AUTH,
    ).json()["versions"]
    assert [v["version"] for v in listed] == [1, 2, 3, 4]
    for v in listed:  # each manifest names the bytes stored beside it
        pdf = httpx.get(v["pdf_url"], headers=AUTH, follow_redirects=True).content
        entry = v["manifest"]["files"]["pdf"]
        assert (len(pdf), hashlib.sha256(pdf).hexdigest()) == (entry["size"], entry["sha256"])
    latest = httpx.get(
        f"{api_url}/v1/communities/{sample_dict['community_id']}/documents",
        params={"year": 2026},
        headers=AUTH,
    ).json()["documents"]
    assert [(d["attachment"], d["version"]) for d in latest] == [("annual_report", 4)]


def _scrape(api_url: str) -> dict[str, float]:
    answer = httpx.get(f"{api_url}/metrics", headers={"Authorization": "Bearer dev-admin-key"})
    assert answer.status_code == 200, answer.text
    return {
        series: float(value)
        for series, _, value in (
            line.rpartition(" ") for line in answer.text.splitlines() if not line.startswith("#")
        )
    }


def test_metrics_move_when_a_job_runs(api_url: str, sample_dict: dict[str, Any]) -> None:
    sample_dict["attachments"] = ["annual_report"]
    # Data no other test sends: a new version, so a real conversion.
    sample_dict["annual_report"]["problems"] = f"指标测试的问题描述 {time.time_ns()}。"
    before = _scrape(api_url)
    assert httpx.get(f"{api_url}/metrics", headers=AUTH).status_code == 403
    posted = httpx.post(f"{api_url}/v1/jobs", json=sample_dict, headers=AUTH, timeout=30)
    assert wait_for_job(posted.headers["location"])["status"] == "succeeded"
    conversions = "docgen_conversion_duration_seconds_count"
    # The pool's counts arrive with the worker's next heartbeat (every 5 s).
    wait_until(
        lambda: _scrape(api_url)[conversions] > before[conversions], 30, "a heartbeat's counts"
    )
    after = _scrape(api_url)
    for series in (
        'docgen_jobs_total{status="accepted"}',
        'docgen_jobs_total{status="succeeded"}',
        'docgen_documents_total{outcome="succeeded",queue="render"}',
        'docgen_http_requests_total{method="POST",route="/v1/jobs",status="202"}',
    ):
        assert after[series] == before.get(series, 0) + 1, series
    assert after["docgen_workers"] >= 1
    assert after['docgen_queue_messages{queue="render",state="waiting"}'] >= 0


def test_a_jobs_log_lines_carry_its_id_and_tenant_in_the_api_and_the_worker(
    service: Service, sample_dict: dict[str, Any]
) -> None:
    api_url, logs = service.url, service.logs
    sample_dict["attachments"] = ["industry_analysis"]
    posted = httpx.post(f"{api_url}/v1/jobs", json=sample_dict, headers=AUTH, timeout=30)
    job = wait_for_job(posted.headers["location"])

    def lines(name: str) -> list[dict[str, Any]]:
        found = []
        for line in (logs / name).read_text("utf-8").splitlines():
            if line.startswith("{") and job["id"] in line:
                found.append(json.loads(line))
        return found

    wait_until(lambda: bool(lines("worker.log")), 10, "the worker's lines")
    api_events = {e["event"] for e in lines("api.log")}
    worker_events = {e["event"] for e in lines("worker.log")}
    assert "job.accepted" in api_events
    assert "document.succeeded" in worker_events
    for entry in lines("api.log") + lines("worker.log"):
        assert (entry["job_id"], entry["tenant"]) == (job["id"], "dev"), entry
    assert "dev-client-key" not in (logs / "api.log").read_text("utf-8")


def test_erasing_a_community_year_removes_it_from_redis_and_s3(
    api_url: str, sample_dict: dict[str, Any]
) -> None:
    sample_dict["community_id"] = f"erased-{time.time_ns()}"
    sample_dict["attachments"] = ["industry_analysis"]
    posted = httpx.post(f"{api_url}/v1/jobs", json=sample_dict, headers=AUTH, timeout=30)
    job = wait_for_job(posted.headers["location"])
    assert job["status"] == "succeeded", job
    community = f"{api_url}/v1/communities/{sample_dict['community_id']}"
    year = sample_dict["year"]

    deadline = time.monotonic() + 60
    # 409 while the job's bundle is being made (its documents are done already).
    while (
        answer := httpx.delete(f"{community}?year={year}", headers=AUTH, timeout=30)
    ).status_code == 409:
        assert time.monotonic() < deadline, answer.text
        time.sleep(0.5)  # polling interval
    assert answer.status_code == 200, answer.text
    removed = answer.json()["removed"]
    assert (removed["jobs"], removed["versions"], removed["inputs"]) == (1, 1, 1)
    assert httpx.get(posted.headers["location"], headers=AUTH).status_code == 404
    listing = httpx.get(f"{community}/documents", params={"year": year}, headers=AUTH)
    assert listing.json()["documents"] == []
    assert httpx.delete(f"{community}?year={year}", headers=AUTH).status_code == 404
    # The same data again makes version 1 anew, not a reuse of an erased one.
    again = wait_for_job(
        httpx.post(f"{api_url}/v1/jobs", json=sample_dict, headers=AUTH).headers["location"]
    )
    assert [(d["version"], d["reused"]) for d in again["documents"]] == [(1, False)]


def test_the_retention_pass_reads_the_real_stores_and_keeps_what_is_fresh(
    service: Service,
) -> None:
    before = list(service.store().list(""))
    run = subprocess.run(
        [*DOCGEN, "expire", "--days", "1"],
        env=service.env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stderr
    assert "removed (older than" in run.stdout and " 0 objects in all" in run.stdout, run.stdout
    # Nothing removed; objects may be added meanwhile (an earlier test's bundle, made on the
    # notify queue after its job succeeded).
    assert set(before) <= set(service.store().list(""))
