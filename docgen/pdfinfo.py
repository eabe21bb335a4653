"""What a PDF says about itself: pages, producer, embedded fonts, PDF/A identification.

Read back from the converter's output for the version manifest, so that a manifest records what
the document really is rather than what was asked for.
"""

from __future__ import annotations

import io
import re

import msgspec
from pypdf import PdfReader
from pypdf.generic import DictionaryObject, StreamObject

__all__ = ["PdfFacts", "count_pages", "pdf_facts"]

_PDFA_PART = re.compile(rb"pdfaid:part(?:>|=\")\s*(\d)")
_SUBSET_TAG = re.compile(r"^[A-Z]{6}\+")


class PdfFacts(msgspec.Struct, frozen=True):
    pages: int
    producer: str  # e.g. "LibreOffice 7.4"
    fonts: list[str]  # base font names without subset tags, sorted
    pdfa_part: int | None  # 2 for PDF/A-2b, None when the PDF claims no PDF/A conformance


def _fonts(reader: PdfReader) -> list[str]:
    names: set[str] = set()
    for page in reader.pages:
        resources = page.get("/Resources")
        if resources is None:
            continue
        fonts = resources.get_object().get("/Font")
        if fonts is None:
            continue
        for ref in fonts.get_object().values():
            font = ref.get_object()
            if isinstance(font, DictionaryObject) and "/BaseFont" in font:
                names.add(_SUBSET_TAG.sub("", str(font["/BaseFont"]).lstrip("/")))
    return sorted(names)


def count_pages(pdf: bytes) -> int:
    return len(PdfReader(io.BytesIO(pdf)).pages)


def pdf_facts(pdf: bytes) -> PdfFacts:
    reader = PdfReader(io.BytesIO(pdf))
    metadata = reader.root_object.get("/Metadata")
    stream = metadata.get_object() if metadata is not None else None
    xmp = stream.get_data() if isinstance(stream, StreamObject) else b""
    part = _PDFA_PART.search(xmp)
    return PdfFacts(
        pages=len(reader.pages),
        producer=str(reader.metadata.get("/Producer", "")) if reader.metadata else "",
        fonts=_fonts(reader),
        pdfa_part=int(part.group(1)) if part else None,
    )
