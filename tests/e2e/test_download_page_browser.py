"""The download page in a real browser (issue 10): headless Chromium opens the emailed link.

Everything is real: the API and a worker as processes, Redis, SeaweedFS, LibreOffice, an SMTP
server on loopback, and Debian's Chromium driven by Playwright (never `playwright install`).
Screenshots (phone 390×844 and desktop) are written to out/screenshots/ for a person to look at;
out/ is not committed.
"""

from __future__ import annotations

import io
import re
import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from pypdf import PdfReader

from docgen.context import ATTACHMENT_NUMBERS
from docgen.links import LinkGrant, sign_link
from docgen.processes import wait_until
from docgen.schema import ATTACHMENT_IDS
from docgen.templates import load_catalogue
from service.page import REFRESH_SECONDS
from tests.conftest import S3Server
from tests.receivers import MailCatcher
from tests.stack import CLIENT, ROOT, Service, service_env, smtp_to, wait_for_job

pytestmark = pytest.mark.e2e

CHROMIUM = Path("/usr/bin/chromium")
LINK_SECRET = "browser link secret, at least thirty-two characters"
HELP = "请联系省教育厅职成处（010-12345678）重新发送"
SUBMITTER = "teacher@school.example.cn"
SCREENSHOTS = ROOT / "out" / "screenshots"
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.skip("Playwright is not installed: `make deps` installs it (pyproject.toml, dev)")
    if not CHROMIUM.exists():
        pytest.skip(
            f"no browser: {CHROMIUM} is missing; `make deps` installs Debian's chromium "
            "(Makefile, APT_PACKAGES)"
        )
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM))
        yield launched
        launched.close()


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
        "docgen-browser",
        link_secret=LINK_SECRET,
        link_help=HELP,
        **smtp_to(mail.port),
    )
    running = Service(env, tmp_path_factory.mktemp("browser-logs"))
    yield running
    running.stop()


@pytest.fixture(scope="module")
def screenshots() -> Path:
    shutil.rmtree(SCREENSHOTS, ignore_errors=True)
    SCREENSHOTS.mkdir(parents=True)
    return SCREENSHOTS


def emailed_page_link(mail: MailCatcher, recipient: str) -> str:
    """The link of the email's 打开下载页面 line: what a submitter taps."""
    wait_until(lambda: bool(mail.to(recipient)), 60, f"an email to {recipient}")
    [message] = mail.to(recipient)
    html = message.get_body(("html",)).get_content()  # type: ignore[union-attr]
    found = re.search(r'<a href="([^"]+)"[^>]*>打开下载页面</a>', html)
    assert found, html
    return found.group(1).replace("&amp;", "&")


def test_a_submitter_opens_the_emailed_link_downloads_the_application_and_an_expired_link_says_so(
    service: Service,
    mail: MailCatcher,
    browser: Any,
    screenshots: Path,
    sample_dict: dict[str, Any],
) -> None:
    sample_dict["notify"] = {"emails": [SUBMITTER]}
    posted = httpx.post(f"{service.url}/v1/jobs", json=sample_dict, headers=CLIENT, timeout=30)
    assert posted.status_code == 202, posted.text
    job = wait_for_job(posted.headers["location"])
    assert job["status"] == "succeeded", job
    link = emailed_page_link(mail, SUBMITTER)
    assert link == job["share_url"]
    catalogue = load_catalogue(ROOT / "doc_templates")
    titles = [f"附件{ATTACHMENT_NUMBERS[a]} {catalogue[a].title}" for a in ATTACHMENT_IDS]
    name = sample_dict["community"]["name"]

    # On a phone: the page, every attachment, and the 申报书's PDF button gives the PDF.
    phone = browser.new_context(viewport=PHONE, device_scale_factor=2, accept_downloads=True)
    page = phone.new_page()
    answer = page.goto(link)
    assert answer is not None and answer.status == 200
    assert page.get_by_role("heading", level=1).inner_text() == name
    assert [h.inner_text() for h in page.get_by_role("heading", level=3).all()] == titles
    assert page.get_by_role("heading", name="已全部生成").is_visible()
    page.screenshot(path=screenshots / "page-phone.png", full_page=True)
    page.screenshot(path=screenshots / "page-phone-top.png")
    button = page.get_by_role("link", name=re.compile(r"PDF 附件5-.*申报书\.pdf \d+ KB"))
    with page.expect_download() as started:
        button.click()
    download = started.value
    assert download.suggested_filename == "附件5-行业产教融合共同体申报书.pdf"
    pdf = Path(download.path()).read_bytes()
    assert pdf.startswith(b"%PDF")
    application = next(d for d in job["documents"] if d["attachment"] == "application")
    assert len(PdfReader(io.BytesIO(pdf)).pages) == application["pages"]
    phone.close()

    # A second job changes two attachments (new versions) with an emoji (a warning): on a
    # desktop, the warning in words and the earlier versions behind a click.
    sample_dict["attachments"] = ["industry_analysis", "application"]
    sample_dict["notify"] = None
    sample_dict["industry_analysis"]["overview"] += "发展势头良好😀。"
    sample_dict["application"]["overall_approach"] += "持续完善。"
    posted = httpx.post(f"{service.url}/v1/jobs", json=sample_dict, headers=CLIENT, timeout=30)
    second = wait_for_job(posted.headers["location"])
    assert second["status"] == "succeeded" and second["warnings"], second
    desktop = browser.new_context(viewport=DESKTOP)
    page = desktop.new_page()
    page.goto(second["share_url"])
    # The bundle follows the job's last document by a moment: until it is stored the page says
    # so and reloads itself (REFRESH_SECONDS), so wait for the link through those reloads.
    from playwright.sync_api import expect  # installed: the browser fixture has not skipped

    bundle = page.get_by_role("link", name=re.compile(r"合订本 PDF"))
    expect(bundle).to_be_visible(timeout=(REFRESH_SECONDS * 6) * 1000)
    assert "表情符号" in page.get_by_role("region", name="请注意").inner_text()
    earlier = page.get_by_role("link", name=re.compile(r"PDF 附件5-.*\.pdf")).nth(1)
    assert not earlier.is_visible()  # collapsed
    page.get_by_text("历史版本（1 个）").nth(1).click()
    assert earlier.is_visible() and "/versions/application/1/pdf" in earlier.get_attribute("href")
    page.screenshot(path=screenshots / "page-desktop.png", full_page=True)

    # An expired link: the friendly 403 page, naming the documents and whom to ask.
    expired = sign_link(
        LinkGrant("dev", job["community_id"], job["year"], job["id"], int(time.time()) - 60),
        LINK_SECRET.encode(),
    )
    answer = page.goto(f"{service.url}/v1/shared/{expired}")
    assert answer is not None and answer.status == 403
    assert page.get_by_role("heading", level=1).inner_text() == "下载链接已过期"
    assert page.get_by_text(HELP).is_visible()
    assert name in page.content()
    page.screenshot(path=screenshots / "expired-desktop.png", full_page=True)
    desktop.close()
    phone = browser.new_context(viewport=PHONE, device_scale_factor=2)
    phone.new_page().goto(f"{service.url}/v1/shared/{expired}")
    phone.pages[0].screenshot(path=screenshots / "expired-phone.png", full_page=True)
    phone.close()
    print(f"\nscreenshots: {screenshots}")
