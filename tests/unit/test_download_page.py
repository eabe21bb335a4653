"""The submitter's download page (issue 10): what a browser gets at the emailed link.

In-memory stores behind the real app; the real path, in headless Chromium, is in
tests/e2e/test_download_page_browser.py.
"""

from __future__ import annotations

import datetime as dt
import html
import re
import time
from collections.abc import Iterator
from typing import Any

import msgspec
import pytest
from litestar.testing import TestClient

from docgen.errors import FieldProblem
from docgen.jobs import BundleRecord, DocumentRecord, ErrorInfo, JobRecord
from docgen.links import LinkGrant, sign_link
from docgen.settings import load_settings
from docgen.storage import FileEntry, Manifest, document_prefix
from service.app import create_app
from service.page import file_size
from tests.fakes import ApiFakes
from tests.unit.conftest import CLIENT, TEST_ENV

SECRET = "unit link secret, at least thirty-two characters"
BASE = "https://docs.example.cn"
BROWSER = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}
CREATED = dt.datetime(2026, 3, 25, 6, 5, tzinfo=dt.UTC)  # 14:05 in Beijing


@pytest.fixture
def client(fakes: ApiFakes) -> Iterator[TestClient[Any]]:
    env = {
        **TEST_ENV,
        "DOCGEN_LINK_SECRET": SECRET,
        "DOCGEN_LINK_HELP": "请联系省教育厅职成处（010-12345678）",
    }
    with TestClient(create_app(load_settings(env), fakes.services), base_url=BASE) as client:
        yield client


def make_job(
    fakes: ApiFakes,
    name: str = "全国智能制造行业产教融合共同体",
    attachments: tuple[Any, ...] = ("industry_analysis", "supply_demand", "application"),
    warnings: tuple[FieldProblem, ...] = (),
) -> JobRecord:
    job = JobRecord(
        id="job1",
        tenant="dev",
        community_id="c-001",
        year=2026,
        created_at=CREATED,
        input_key="dev/inputs/x.json",
        attachments=attachments,
        warnings=warnings,
        community_name=name,
    )
    fakes.jobs.create(job)
    return job


def token_for(job: JobRecord, expires_in: float = 3600, secret: str = SECRET) -> str:
    grant = LinkGrant(job.tenant, job.community_id, job.year, job.id, int(time.time() + expires_in))
    return sign_link(grant, secret.encode())


def store_version(
    fakes: ApiFakes, job: JobRecord, attachment: str, version: int, sizes: dict[str, int]
) -> None:
    prefix = document_prefix(job.tenant, job.community_id, job.year, attachment)
    manifest = Manifest(
        version=version,
        job_id=job.id,
        created_at=CREATED - dt.timedelta(days=10 * (3 - version)),
        identity=f"id{version}",
        input_sha256="0" * 64,
        template_id=attachment,
        template_version=1,
        template_sha256="0" * 64,
        docxtpl_version="0",
        pages=7,
        files={k: FileEntry(f"{prefix}v{version}/f.{k}", n, "0" * 64) for k, n in sizes.items()},
    )
    fakes.store.put(f"{prefix}v{version}/manifest.json", msgspec.json.encode(manifest), "json")


def succeed(
    fakes: ApiFakes, job: JobRecord, attachment: Any, version: int = 1, xlsx: bool = False
) -> None:
    sizes = {"pdf": 312_000, "docx": 48_500} | ({"xlsx": 9_000} if xlsx else {})
    store_version(fakes, job, attachment, version, sizes)
    fakes.jobs.put_document(
        job.id,
        DocumentRecord(
            attachment,
            "succeeded",
            version=version,
            pages=7,
            pdf_key=f"k/{attachment}.pdf",
            docx_key=f"k/{attachment}.docx",
            xlsx_key=f"k/{attachment}.xlsx" if xlsx else None,
            finished_at=CREATED + dt.timedelta(seconds=30),
        ),
    )


def page(client: TestClient[Any], token: str, suffix: str = "") -> Any:
    return client.get(f"/v1/shared/{token}{suffix}", headers=BROWSER, follow_redirects=False)


def links(body: str) -> list[str]:
    return [html.unescape(u) for u in re.findall(r'href="([^"]+)"', body)]


def test_a_finished_job_shows_every_attachment_with_its_downloads_and_the_bundle(
    client: TestClient[Any], fakes: ApiFakes
) -> None:
    job = make_job(fakes)
    store_version(fakes, job, "application", 1, {"pdf": 250_000, "docx": 40_000})
    for attachment in job.attachments:
        succeed(fakes, job, attachment, version=2, xlsx=attachment == "supply_demand")
    fakes.jobs.put_bundle(
        job.id,
        BundleRecord(
            "dev/bundles/job1/2026年度材料合订本.pdf",
            "dev/bundles/job1/2026年度材料.zip",
            job.attachments,
            pdf_size=2_400_000,
            zip_size=1_900_000,
        ),
    )
    token = token_for(job)
    answer = page(client, token)
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/html")
    assert answer.headers["cache-control"] == "no-store"
    assert answer.headers["referrer-policy"] == "no-referrer"
    assert "script-src" not in answer.headers["content-security-policy"]  # default-src 'none'
    body = answer.text
    assert '<html lang="zh-CN">' in body
    assert "<h1>全国智能制造行业产教融合共同体</h1>" in body and "2026年度材料" in body
    assert "已全部生成" in body and "2026年3月25日 14:05" in body
    assert 'http-equiv="refresh"' not in body
    for attachment in job.attachments:
        assert re.search(rf"<h3[^>]*>附件\d title-{attachment}</h3>", body)
    assert "第2版 · 共7页" in body
    # Buttons name the kind, the file and its size, and go through the token's own routes.
    assert 'stem-application.pdf</span> <span class="size">305 KB' in body
    assert "stem-supply_demand.xlsx" in body and "9 KB" in body
    assert "2026年度材料合订本.pdf" in body and "2.3 MB" in body
    urls = links(body)
    shared = f"{BASE}/v1/shared/{token}"
    assert f"{shared}/documents/application/pdf" in urls
    assert f"{shared}/documents/supply_demand/xlsx" in urls
    assert f"{shared}/bundle/pdf" in urls and f"{shared}/bundle/zip" in urls
    assert all(u.startswith(shared) for u in urls)
    # Earlier versions, collapsed.
    assert "<summary>历史版本（1 个）</summary>" in body
    assert f"{shared}/versions/application/1/pdf" in urls
    # Clicking a button is the existing 302 to storage.
    click = client.get(
        f"/v1/shared/{token}/documents/application/pdf", headers=BROWSER, follow_redirects=False
    )
    assert click.status_code == 302
    assert click.headers["location"] == "memory://k/application.pdf?filename=stem-application.pdf"


def test_a_partial_job_shows_its_failure_and_warnings_in_plain_words(
    client: TestClient[Any], fakes: ApiFakes
) -> None:
    warning = FieldProblem(
        "contact.name",
        "char.no_glyph",
        "联系人姓名中的“𠮷”无法显示",
        "The character 𠮷 of contact.name cannot be shown",
    )
    job = make_job(fakes, attachments=("industry_analysis", "application"), warnings=(warning,))
    succeed(fakes, job, "industry_analysis")
    fakes.jobs.put_document(
        job.id,
        DocumentRecord(
            "application",
            "failed",
            error=ErrorInfo("conversion.failed", "PDF 转换失败，请稍后重新提交", "failed"),
            finished_at=CREATED,
        ),
    )
    body = page(client, token_for(job)).text
    assert "部分材料生成失败" in body
    assert '<h2 id="warnings-heading">请注意</h2>' in body
    assert "<li>联系人姓名中的“𠮷”无法显示</li>" in body
    assert "未能生成：PDF 转换失败，请稍后重新提交" in body
    assert "/documents/application/" not in body  # nothing to download for the failed one
    assert "/documents/industry_analysis/pdf" in body


def test_a_running_job_says_so_and_refreshes_itself(
    client: TestClient[Any], fakes: ApiFakes
) -> None:
    job = make_job(fakes, attachments=("industry_analysis", "application"))
    succeed(fakes, job, "industry_analysis")
    fakes.jobs.put_document(job.id, DocumentRecord("application", "running"))
    body = page(client, token_for(job)).text
    assert '<meta http-equiv="refresh" content="5">' in body
    assert "正在生成" in body and "生成中" in body and 'role="status"' in body


def test_a_finished_job_waits_a_little_for_its_bundle_but_not_forever(
    client: TestClient[Any], fakes: ApiFakes
) -> None:
    job = make_job(fakes, attachments=("industry_analysis",))
    fakes.jobs.put_document(
        job.id,
        DocumentRecord(
            "industry_analysis",
            "succeeded",
            version=1,
            pages=2,
            pdf_key="a.pdf",
            docx_key="a.docx",
            finished_at=dt.datetime.now(dt.UTC),
        ),
    )
    body = page(client, token_for(job)).text
    assert "合订本正在生成" in body and 'http-equiv="refresh"' in body
    succeed(fakes, job, "industry_analysis")  # finished long ago, still no bundle
    body = page(client, token_for(job)).text
    assert "合订本正在生成" not in body and 'http-equiv="refresh"' not in body


def test_a_failed_job_says_so_without_downloads(client: TestClient[Any], fakes: ApiFakes) -> None:
    job = make_job(fakes, attachments=("application",))
    fakes.jobs.put_document(
        job.id,
        DocumentRecord(
            "application",
            "failed",
            error=ErrorInfo("render.failed", "模板填写失败", "Rendering failed"),
            finished_at=CREATED,
        ),
    )
    body = page(client, token_for(job)).text
    assert '<h2 id="status-heading">生成失败</h2>' in body
    assert "未能生成：模板填写失败" in body
    assert 'class="button' not in body and 'http-equiv="refresh"' not in body


def test_an_expired_link_gets_a_friendly_403_naming_the_documents_and_whom_to_ask(
    client: TestClient[Any], fakes: ApiFakes
) -> None:
    job = make_job(fakes)
    answer = page(client, token_for(job, expires_in=-3600))
    assert answer.status_code == 403
    assert answer.headers["content-type"].startswith("text/html")
    body = answer.text
    assert "<h1>下载链接已过期</h1>" in body
    assert "“全国智能制造行业产教融合共同体 2026年度材料”的下载链接已于" in body
    assert "请联系省教育厅职成处（010-12345678）" in body
    # A download link of an expired token is the same page, not JSON, in a browser.
    click = page(client, token_for(job, expires_in=-1), "/documents/application/pdf")
    assert click.status_code == 403 and "下载链接已过期" in click.text


def test_a_forged_link_gets_a_403_page_that_reveals_nothing(
    client: TestClient[Any], fakes: ApiFakes
) -> None:
    job = make_job(fakes)
    for token in (
        token_for(job, secret="another secret, at least thirty-two characters"),
        token_for(job)[:-4],
        "forged",
    ):
        answer = page(client, token)
        assert answer.status_code == 403
        assert "<h1>下载链接无效</h1>" in answer.text
        assert "全国智能制造" not in answer.text
        assert "请联系省教育厅职成处" in answer.text


def test_an_unknown_job_or_file_is_a_404_page(client: TestClient[Any], fakes: ApiFakes) -> None:
    job = make_job(fakes)
    ghost = msgspec.structs.replace(job, id="no-such-job")
    answer = page(client, token_for(ghost))
    assert answer.status_code == 404 and "<h1>找不到这份材料</h1>" in answer.text
    missing = page(client, token_for(job), "/documents/application/pdf")  # not produced yet
    assert missing.status_code == 404 and "<h1>找不到这个文件</h1>" in missing.text
    assert f'href="{BASE}/v1/shared/{token_for(job)}"' in missing.text


def test_everything_from_the_submitter_is_escaped(client: TestClient[Any], fakes: ApiFakes) -> None:
    hostile = '<script>alert("x")</script><img src=x onerror=alert(1)>&共同体'
    warning = FieldProblem("contact.name", "char.emoji", f"{hostile}中的表情", "emoji")
    job = make_job(fakes, name=hostile, warnings=(warning,))
    body = page(client, token_for(job)).text
    assert "<script>" not in body and "<img" not in body
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in body
    assert "&amp;共同体" in body
    expired = page(client, token_for(job, expires_in=-1)).text
    assert "<script>" not in expired and "&lt;script&gt;" in expired


def test_api_clients_still_get_json_from_the_same_link(
    client: TestClient[Any], fakes: ApiFakes, sample_bytes: bytes
) -> None:
    body = client.post("/v1/jobs", content=sample_bytes, headers=CLIENT).json()
    path = body["share_url"].removeprefix(BASE)
    for accept in (None, "*/*", "application/json", "application/json, text/html;q=0.5"):
        answer = client.get(path, headers={"Accept": accept} if accept else {})
        assert answer.headers["content-type"] == "application/json", accept
        assert answer.json()["job_id"] == body["id"]
        assert answer.headers["vary"] == "Accept"
    page_ = client.get(path, headers=BROWSER)
    assert page_.headers["content-type"].startswith("text/html")
    # The name comes from the request: the sample's community.
    assert "行业产教融合共同体" in page_.text and body["id"] not in page_.text
    refused = client.get(path[:-3] + "xyz")
    assert refused.status_code == 403
    assert refused.json()["errors"][0]["code"] == "link.invalid"


def test_a_record_without_a_community_name_reads_it_from_the_stored_input(
    client: TestClient[Any], fakes: ApiFakes, sample_bytes: bytes, sample_dict: dict[str, Any]
) -> None:
    body = client.post("/v1/jobs", content=sample_bytes, headers=CLIENT).json()
    job, _ = fakes.jobs.get(body["id"]) or (None, None)
    assert job is not None
    older = msgspec.structs.replace(job, id="older", community_name="")
    fakes.jobs.create(older)
    text = page(client, token_for(older)).text
    assert f"<h1>{html.escape(sample_dict['community']['name'])}</h1>" in text


@pytest.mark.parametrize(
    ("size", "shown"),
    [(None, ""), (812, "812 B"), (312_000, "305 KB"), (1_468_006, "1.4 MB")],
)
def test_file_sizes_read_as_people_read_them(size: int | None, shown: str) -> None:
    assert file_size(size) == shown
