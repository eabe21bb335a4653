"""The submitter's download page: what the emailed link opens in a browser (issue 10).

One URL, two answers: `GET /v1/shared/{token}` gives the JSON integrators already read, and an
HTML page to a browser (its `Accept` prefers `text/html`). So every link ever emailed opens the
page, and no API client changes. The page is server-rendered (Jinja2, autoescape on), needs no
JavaScript, and sends downloads through the token's own `302` routes, so every click is checked.

Pure functions from records to a view, and from a view to a response; the routes that read the
stores are in `service.documents`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, Literal

import jinja2
import msgspec
from litestar import Request, Response

from docgen.context import ATTACHMENT_NUMBERS
from docgen.errors import FieldProblem
from docgen.jobs import (
    BundleRecord,
    DocumentRecord,
    JobRecord,
    job_finished_at,
    job_status,
)
from docgen.storage import Manifest

__all__ = [
    "REFRESH_SECONDS",
    "DocumentView",
    "FileLink",
    "JobPage",
    "beijing_time",
    "file_size",
    "job_page",
    "not_found_page",
    "page_view",
    "refused_page",
    "wants_html",
]

# A running job's page reloads itself this often: a sample takes 3–5 s end to end (README,
# Measured), so a submitter who opened the link early sees the result after one or two reloads.
REFRESH_SECONDS = 5
# After the last document, the bundle takes a moment more; the page waits for it this long.
BUNDLE_WAIT = dt.timedelta(minutes=2)
BEIJING = dt.timezone(dt.timedelta(hours=8))

_PAGES = jinja2.Environment(
    loader=jinja2.FileSystemLoader(Path(__file__).with_name("page_templates")),
    autoescape=True,  # every value is the submitter's data or ours: all of it escaped
    undefined=jinja2.StrictUndefined,
)

# The link is a credential: no referrer to the storage it redirects to, no caching, no framing,
# no script at all (the page has none), and no search engine.
_HEADERS = {
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; "
        "form-action 'none'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "X-Robots-Tag": "noindex, nofollow",
    "Vary": "Accept",
}

_JOB_STATUS = {
    "queued": "排队等待生成",
    "running": "正在生成",
    "succeeded": "已全部生成",
    "partial": "部分材料生成失败",
    "failed": "生成失败",
}
_DOCUMENT_STATUS = {
    "queued": "排队中",
    "running": "生成中",
    "succeeded": "已生成",
    "failed": "生成失败",
}
_KIND_LABELS = {"pdf": "PDF", "docx": "Word", "xlsx": "Excel"}

Tone = Literal["ok", "busy", "warn", "bad"]


class FileLink(msgspec.Struct, frozen=True):
    label: str  # PDF | Word | Excel | 合订本 PDF | 全部文件 ZIP
    filename: str
    size: str  # "312 KB", or "" when not known
    url: str


class VersionView(msgspec.Struct, frozen=True):
    version: int
    created: str
    pages: int
    files: list[FileLink]


class DocumentView(msgspec.Struct, frozen=True):
    attachment: str
    title: str  # 附件5 行业产教融合共同体申报书
    status: str
    status_text: str
    tone: Tone
    version: int | None
    pages: int | None
    files: list[FileLink]
    error: str | None
    earlier: list[VersionView]


class JobPage(msgspec.Struct, frozen=True):
    community_name: str
    year: int
    status: str
    status_text: str
    tone: Tone
    created: str
    finished: str | None
    expires: str
    documents: list[DocumentView]
    bundle: list[FileLink]
    bundle_pending: bool
    warnings: list[str]
    refresh_seconds: int | None


def file_size(size: int | None) -> str:
    """Bytes as people read them: 812 B, 312 KB, 1.4 MB; "" when unknown."""
    if size is None:
        return ""
    if size < 1024:
        return f"{size} B"
    if size < 1024 * 1024:
        return f"{round(size / 1024)} KB"
    return f"{size / (1024 * 1024):.1f} MB"


def beijing_time(moment: dt.datetime) -> str:
    """2026年3月25日 14:05 (UTC+8: the submitters' clock)."""
    local = moment.astimezone(BEIJING)
    return f"{local.year}年{local.month}月{local.day}日 {local:%H:%M}"


def _tone(status: str) -> Tone:
    return {"succeeded": "ok", "partial": "warn", "failed": "bad"}.get(status, "busy")  # type: ignore[return-value]


def page_view(
    job: JobRecord,
    community_name: str,
    documents: Sequence[DocumentRecord],
    bundle: BundleRecord | None,
    histories: Mapping[str, Sequence[Manifest]],
    titles: Mapping[str, str],
    stems: Mapping[str, str],
    link: Callable[..., str],
    expires_at: int,
    now: dt.datetime,
) -> JobPage:
    """The page of one job: `histories` holds each attachment's stored versions (manifests),
    `link(*path)` makes a URL under the token (`link("documents", "application", "pdf")`)."""
    status = job_status(list(documents))
    finished_at = job_finished_at(list(documents))

    def document(doc: DocumentRecord) -> DocumentView:
        manifests = {m.version: m for m in histories.get(doc.attachment, ())}
        current = manifests.get(doc.version) if doc.version is not None else None
        stem = stems.get(doc.attachment, doc.attachment)
        files = []
        if doc.status == "succeeded":
            for kind in ("pdf", "docx", "xlsx"):
                if getattr(doc, f"{kind}_key") is None:
                    continue
                entry = current.files.get(kind) if current else None
                files.append(
                    FileLink(
                        _KIND_LABELS[kind],
                        f"{stem}.{kind}",
                        file_size(entry.size if entry else None),
                        link("documents", doc.attachment, kind),
                    )
                )
        earlier = [
            VersionView(
                m.version,
                beijing_time(m.created_at),
                m.pages,
                [
                    FileLink(
                        _KIND_LABELS[kind],
                        f"{stem}.{kind}",
                        file_size(m.files[kind].size),
                        link("versions", doc.attachment, str(m.version), kind),
                    )
                    for kind in ("pdf", "docx", "xlsx")
                    if kind in m.files
                ],
            )
            for number, m in sorted(manifests.items(), reverse=True)
            if doc.version is not None and number < doc.version
        ]
        number = ATTACHMENT_NUMBERS.get(doc.attachment)  # type: ignore[call-overload]
        return DocumentView(
            attachment=doc.attachment,
            title=titles.get(doc.attachment) or f"附件{number}",
            status=doc.status,
            status_text=_DOCUMENT_STATUS[doc.status],
            tone=_tone(doc.status),
            version=doc.version,
            pages=doc.pages,
            files=files,
            error=doc.error.message if doc.status == "failed" and doc.error else None,
            earlier=earlier,
        )

    bundle_links = []
    if bundle is not None:
        for kind, key, size, label in (
            ("pdf", bundle.pdf_key, bundle.pdf_size, "合订本 PDF"),
            ("zip", bundle.zip_key, bundle.zip_size, "全部文件 ZIP"),
        ):
            bundle_links.append(
                FileLink(label, key.rsplit("/", 1)[-1], file_size(size), link("bundle", kind))
            )
    finished = status in ("succeeded", "partial", "failed")
    # The bundle is made after the last document: wait for it a little, never forever.
    bundle_pending = (
        bundle is None
        and status in ("succeeded", "partial")
        and finished_at is not None
        and now - finished_at < BUNDLE_WAIT
    )
    return JobPage(
        community_name=community_name,
        year=job.year,
        status=status,
        status_text=_JOB_STATUS[status],
        tone=_tone(status),
        created=beijing_time(job.created_at),
        finished=beijing_time(finished_at) if finished_at else None,
        expires=beijing_time(dt.datetime.fromtimestamp(expires_at, dt.UTC)),
        documents=[document(d) for d in documents],
        bundle=bundle_links,
        bundle_pending=bundle_pending,
        warnings=[w.message for w in job.warnings],
        refresh_seconds=None if finished and not bundle_pending else REFRESH_SECONDS,
    )


def wants_html(request: Request[Any, Any, Any]) -> bool:
    """True for a browser: its `Accept` ranks `text/html` above JSON. `*/*` (curl, httpx, most
    clients) and no header at all keep the JSON answer the API has always given."""
    best = request.accept.best_match(["application/json", "text/html"], "application/json")
    return best == "text/html"


def _html(template: str, status: int, **values: Any) -> Response[str]:
    body = _PAGES.get_template(template).render(**values)
    return Response(
        body, status_code=status, media_type="text/html; charset=utf-8", headers=_HEADERS
    )


def job_page(page: JobPage) -> Response[str]:
    return _html("download_page.html", 200, page=page)


_DEFAULT_HELP = "请联系提交材料的平台（或贵单位负责填报材料的老师）重新发送下载邮件。"


def refused_page(
    problem: FieldProblem, help_text: str, about: str | None, expired_on: str | None
) -> Response[str]:
    """403: the link is forged, cut short or expired; say so and whom to ask.

    `about` names the documents ("某共同体 2026年度材料") when the link was genuine but expired."""
    return _html(
        "refused.html",
        403,
        expired=problem.code == "link.expired",
        message=problem.message,
        help_text=help_text or _DEFAULT_HELP,
        about=about,
        expired_on=expired_on,
    )


def not_found_page(
    help_text: str, what: Literal["job", "file"] = "job", back_url: str | None = None
) -> Response[str]:
    """404: the link is genuine but its job (or one of its files) is not there."""
    return _html(
        "not_found.html", 404, help_text=help_text or _DEFAULT_HELP, what=what, back_url=back_url
    )
