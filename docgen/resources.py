"""The job resource of the contract (`GET /v1/jobs/{id}`), built from records; URLs are absolute."""

from __future__ import annotations

import datetime as dt
from typing import Any

import msgspec

from docgen.indicators import indicator_summary
from docgen.jobs import Delivery, DocumentRecord, JobRecord, job_finished_at, job_status

__all__ = ["bundle_path", "download_path", "indicators_path", "job_resource"]


def _iso(moment: dt.datetime | None) -> str | None:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ") if moment else None


def download_path(job_id: str, attachment: str, kind: str) -> str:
    return f"/v1/jobs/{job_id}/documents/{attachment}/{kind}"


def bundle_path(job_id: str, kind: str) -> str:
    return f"/v1/jobs/{job_id}/bundle/{kind}"


def indicators_path(job_id: str) -> str:
    return f"/v1/jobs/{job_id}/indicators"


def job_resource(
    job: JobRecord,
    documents: list[DocumentRecord],
    base_url: str,
    delivery: Delivery | None = None,
    share_url: str | None = None,
) -> dict[str, Any]:
    """The contract's job resource; `delivery` adds the bundle and notifications once known."""

    def url(doc: DocumentRecord, kind: str) -> str | None:
        if kind == "xlsx" and doc.xlsx_key is None:
            return None
        if doc.status != "succeeded":
            return None
        return base_url + download_path(job.id, doc.attachment, kind)

    return {
        "id": job.id,
        "status": job_status(documents),
        "community_id": job.community_id,
        "year": job.year,
        "created_at": _iso(job.created_at),
        "finished_at": _iso(job_finished_at(documents)),
        "warnings": msgspec.to_builtins(job.warnings),
        "indicators": (
            indicator_summary(job.indicators) | {"url": base_url + indicators_path(job.id)}
            if job.indicators
            else {}
        ),
        "documents": [
            {
                "attachment": doc.attachment,
                "status": doc.status,
                "version": doc.version,
                "reused": doc.reused,
                "pages": doc.pages,
                "pdf_url": url(doc, "pdf"),
                "docx_url": url(doc, "docx"),
                "xlsx_url": url(doc, "xlsx"),
                "error": (
                    {
                        "code": doc.error.code,
                        "message": doc.error.message,
                        "message_en": doc.error.message_en,
                    }
                    if doc.error
                    else None
                ),
            }
            for doc in documents
        ],
        "bundle": (
            {
                "pdf_url": base_url + bundle_path(job.id, "pdf"),
                "zip_url": base_url + bundle_path(job.id, "zip"),
            }
            if delivery and delivery.bundle
            else None
        ),
        "share_url": share_url,
        "notifications": [
            {
                "channel": n.channel,
                "target": n.target,
                "status": n.status,
                "attempts": n.attempts,
                "last_error": n.last_error,
            }
            for n in (delivery.notifications if delivery else [])
        ],
        "links": {"self": f"{base_url}/v1/jobs/{job.id}"},
    }
