"""In-memory stand-ins for unit tests of logic (never the proof that a feature works)."""

from __future__ import annotations

import datetime as dt
import io
from typing import Any

import msgspec
from pypdf import PdfWriter

from docgen.batches import MemoryBatchStore
from docgen.context import ATTACHMENT_NUMBERS
from docgen.errors import DocgenError
from docgen.glyphs import GlyphCoverage
from docgen.idempotency import MemoryIdempotencyStore
from docgen.jobs import MemoryJobStore
from docgen.limits import MemoryLimitStore
from docgen.metrics import MemoryCounters
from docgen.objectstore import MemoryStore
from docgen.queue import ListEnqueuer
from docgen.schema import ATTACHMENT_IDS
from docgen.storage import MemoryVersionCounter
from service.app import Services
from service.metrics import MetricsSources


def manifest_fields(identity: str, job_id: str = "j") -> dict[str, Any]:
    """What `storage.store_version` needs besides the files, for a version made in a test."""
    return {
        "job_id": job_id,
        "created_at": dt.datetime(2026, 5, 1, tzinfo=dt.UTC),
        "identity": identity,
        "input_sha256": "s",
        "template_id": "application",
        "template_version": 1,
        "template_sha256": "t",
        "docxtpl_version": "0",
        "pages": 1,
    }


def blank_pdf(pages: int = 1) -> bytes:
    writer = PdfWriter()
    for _ in range(pages):
        writer.add_blank_page(595, 842)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


class CountingConverter:
    """Answers a one-page PDF per call, or fails the first `failures` calls."""

    def __init__(self, failures: int = 0, retryable: bool = True) -> None:
        self.calls = 0
        self.failures = failures
        self.retryable = retryable

    def to_pdf(self, docx: bytes, *, pdf_a: bool = False) -> bytes:
        self.calls += 1
        if self.calls <= self.failures:
            raise DocgenError(
                "conversion.unavailable", "转换失败", "Conversion failed", retryable=self.retryable
            )
        return blank_pdf()


class ApiFakes(msgspec.Struct):
    """The API's services as in-memory stand-ins, and handles to look into them."""

    services: Services
    jobs: MemoryJobStore
    enqueuer: ListEnqueuer
    store: MemoryStore
    s3_up: list[bool]
    limits: MemoryLimitStore
    counters: MemoryCounters


def api_fakes(glyphs: GlyphCoverage) -> ApiFakes:
    jobs, store, enqueuer, s3_up = MemoryJobStore(), MemoryStore(), ListEnqueuer(), [True]
    limits = MemoryLimitStore()
    counters = MemoryCounters()

    def s3_ready() -> None:
        if not s3_up[0]:
            raise DocgenError("storage.unavailable", "文件存储暂不可用", "S3 down", retryable=True)

    services = Services(
        jobs,
        store,
        enqueuer,
        {"redis": jobs.ping, "s3": s3_ready},
        {a: f"stem-{a}" for a in ATTACHMENT_IDS},
        glyphs,
        MemoryIdempotencyStore(),
        MemoryBatchStore(),
        limits,
        MetricsSources(counters, lambda: {("render", "waiting"): len(enqueuer.messages)}, list),
        MemoryVersionCounter(),
        titles={a: f"附件{ATTACHMENT_NUMBERS[a]} title-{a}" for a in ATTACHMENT_IDS},
    )
    return ApiFakes(services, jobs, enqueuer, store, s3_up, limits, counters)
