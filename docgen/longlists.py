"""Long lists converted as page-aligned parts on several LibreOffice instances at once.

LibreOffice's time grows faster than a document's length (DESIGN §4: one 3,000-row list ≈23 s,
the same rows as ten documents on two instances 4.2–4.8 s), so a long list is converted in parts:

1. predict every row's height from the fonts (docgen.listlayout, docgen.typesetting) and pack
   the rows into pages, a small margin under each page's height (docgen.listpacking);
2. cut the pages into parts of about `ROWS_PER_PART` rows, a multiple of the converter's
   parallelism; each part is a DOCX of whole pages that starts its page numbers where the one
   before it ends (docgen.listparts);
3. convert the parts side by side on the pool, check that each part (but the last, whose pages
   number nothing after it) has exactly its planned pages — a row predicted too short would
   have pushed one onto an extra page — and merge the PDFs (docgen.pdfmerge).

When the document is not of the shape this handles, or a check fails, the caller converts the
document in one piece as before: the split path is only ever faster, never different in content.
A part whose conversion fails fails the document as a one-piece conversion would (the pool has
already retried it once on another instance after a hang or a crash).
"""

from __future__ import annotations

import io
import logging
import math
import time
from concurrent.futures import Future, ThreadPoolExecutor
from functools import cache
from typing import Protocol, runtime_checkable

from pypdf import PdfReader

from docgen.convert import Converter
from docgen.listlayout import ListDocument, read_list_document
from docgen.listpacking import PartPlan, RowTooTall, group_pages, pack_pages
from docgen.listparts import BREAK_HEIGHT_PT, part_docx
from docgen.pdfmerge import merge_pdfs
from docgen.typesetting import Typesetter

__all__ = [
    "MARGIN_PT",
    "ROWS_PER_PART",
    "SPLIT_MIN_ROWS",
    "ParallelConverter",
    "convert_document",
    "convert_in_parts",
    "plan_parts",
    "warm_up",
]

log = logging.getLogger("docgen.longlists")

# LibreOffice CPU seconds for 附件3's list in one piece, measured here (docs/BENCHMARKS.md §3):
# 100 rows 1.0–1.1, 200 rows 1.9–2.0, 400 rows 3.4–4.0, 800 rows 10.1, 3,000 rows 167; a
# document of any size costs ≈0.35 of its own (load, PDF set-up). Per row the cost is flat up
# to a few hundred rows and grows beyond, so:
# - below SPLIT_MIN_ROWS (≈24 pages) one piece: two parts would halve a conversion of ≈1–2 s
#   for one more part's fixed cost, and take both instances from other documents;
# - parts of about ROWS_PER_PART rows: in the flat range, few enough that the fixed cost stays
#   small (12 parts for 3,000 rows: ≈25 s of CPU in all, against 167 s in one piece).
SPLIT_MIN_ROWS = 300
ROWS_PER_PART = 250
# Room kept free at the foot of each page: a row predicted a little short still fits.
MARGIN_PT = 4.0
# The fonts the templates write when a style names none (docxkit's house styles always do).
_DEFAULT_EAST_ASIAN, _DEFAULT_LATIN = "宋体", "Times New Roman"


@runtime_checkable
class ParallelConverter(Converter, Protocol):
    """A converter that runs several conversions at once (the pool)."""

    @property
    def parallelism(self) -> int:
        """How many conversions it runs at the same time."""
        ...

    @property
    def fontconfig_file(self) -> str:
        """The fontconfig file its LibreOffice resolves fonts with (row heights need them)."""
        ...


def convert_document(docx: bytes, converter: Converter, *, pdf_a: bool, rows: int) -> bytes:
    """The PDF of `docx`; in parts when its longest list has at least `SPLIT_MIN_ROWS` `rows`
    and the converter runs conversions in parallel, else in one piece."""
    if (
        rows >= SPLIT_MIN_ROWS
        and isinstance(converter, ParallelConverter)
        and converter.parallelism > 1
    ):
        pdf = convert_in_parts(docx, converter, pdf_a=pdf_a)
        if pdf is not None:
            return pdf
    return converter.to_pdf(docx, pdf_a=pdf_a)


@cache
def _typesetters(fontconfig_file: str) -> _Typesetters:
    return _Typesetters(fontconfig_file)


class _Typesetters:
    def __init__(self, fontconfig_file: str) -> None:
        self._fontconfig_file = fontconfig_file

    @cache  # noqa: B019 — one per fontconfig file (cached above), kept for the process
    def __call__(self, east_asian: str, latin: str) -> Typesetter:
        return Typesetter.for_official_fonts(
            east_asian or _DEFAULT_EAST_ASIAN, latin or _DEFAULT_LATIN, self._fontconfig_file
        )


def warm_up(fontconfig_file: str) -> None:
    """Read the templates' faces' metrics now (≈0.5–2 s, once per process) rather than at the
    first long list."""
    for east_asian in ("仿宋_GB2312", "黑体", _DEFAULT_EAST_ASIAN):
        setter = _typesetters(fontconfig_file)(east_asian, _DEFAULT_LATIN)
        setter.east_asian.metrics  # noqa: B018 — read for its effect
        setter.latin.metrics  # noqa: B018


def plan_parts(layout: ListDocument, parallelism: int) -> list[PartPlan] | None:
    """Pages and parts for `layout`, or None when a row cannot be placed on a page."""
    room = layout.body_height_pt - layout.header_height_pt - MARGIN_PT
    try:
        pages = pack_pages(
            layout.row_heights_pt, room - layout.front_height_pt, room - BREAK_HEIGHT_PT
        )
    except RowTooTall as exc:
        log.info("longlist.unsplittable reason=%s", exc)
        return None
    if pages[0][0] == pages[0][1]:
        return None  # what stands before the table fills the first page
    rows = len(layout.row_heights_pt)
    parts = parallelism * max(1, math.ceil(rows / (parallelism * ROWS_PER_PART)))
    return group_pages(pages, parts, layout.page_number_start)


def convert_in_parts(docx: bytes, converter: ParallelConverter, *, pdf_a: bool) -> bytes | None:
    """The PDF of `docx` converted in page-aligned parts, or None when the document is not of a
    shape this handles or LibreOffice paged a part otherwise than planned."""
    started = time.monotonic()
    try:
        layout = read_list_document(docx, _typesetters(converter.fontconfig_file))
    except (KeyError, LookupError) as exc:  # a font the typesetter does not know
        log.warning("longlist.unmeasured reason=%r", exc)
        return None
    if layout is None:
        return None
    plans = plan_parts(layout, converter.parallelism)
    if plans is None:
        return None
    parts = [part_docx(docx, layout, plan) for plan in plans]
    prepared = time.monotonic()
    pdfs = _convert_all(parts, converter, pdf_a=pdf_a)
    converted = time.monotonic()
    for number, (plan, pdf) in enumerate(zip(plans[:-1], pdfs, strict=False), start=1):
        pages = len(PdfReader(io.BytesIO(pdf)).pages)
        if pages != len(plan.pages):
            log.warning(
                "longlist.fallback part=%d planned_pages=%d pages=%d",
                number,
                len(plan.pages),
                pages,
            )
            return None
    merged = merge_pdfs(pdfs)
    log.info(
        "longlist.converted rows=%d parts=%d prepare_s=%.2f convert_s=%.2f merge_s=%.2f",
        len(layout.row_heights_pt),
        len(plans),
        prepared - started,
        converted - prepared,
        time.monotonic() - converted,
    )
    return merged


def _convert_all(parts: list[bytes], converter: Converter, *, pdf_a: bool) -> list[bytes]:
    """Every part converted, in order; the first failure cancels the parts not yet started."""
    workers = converter.parallelism if isinstance(converter, ParallelConverter) else 1
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="longlist") as executor:
        futures: list[Future[bytes]] = [
            executor.submit(converter.to_pdf, part, pdf_a=pdf_a) for part in parts
        ]
        try:
            return [future.result() for future in futures]
        except BaseException:
            for future in futures:
                future.cancel()
            raise
