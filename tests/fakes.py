"""In-memory stand-ins for unit tests of logic (never the proof that a feature works)."""

from __future__ import annotations

import io

from pypdf import PdfWriter

from docgen.errors import DocgenError


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
