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

import logging
import math
import time
from concurrent.futures import Future, ThreadPoolExecutor
from functools import cache
from typing import Protocol, runtime_checkable

from docgen.convert import Converter
from docgen.errors import DocgenError
from docgen.listlayout import ListDocument, read_list_document
from docgen.listodt import OdtPrototype, plain_rows
from docgen.listpacking import PartPlan, RowTooTall, group_between_ends, group_pages, pack_pages
from docgen.listparts import BREAK_HEIGHT_PT, data_rows, part_docx
from docgen.pdfinfo import count_pages
from docgen.pdfmerge import merge_pdfs
from docgen.typesetting import Typesetter

__all__ = [
    "MARGIN_PT",
    "ROWS_PER_ODT_PART",
    "ROWS_PER_PART",
    "SPLIT_MIN_ROWS",
    "OdtConverter",
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
# Middle parts written as ODT (docgen.listodt) cost LibreOffice ≈0.2 s each and ≈17 ms a page,
# flat with length: few long ones. 3,000 rows in 2 middle parts took 4.3-4.7 s end to end
# here, in 4 parts 5.2-5.6 s, in 8 parts 4.9-5.4 s (docs/BENCHMARKS.md §3).
ROWS_PER_ODT_PART = 1500
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


@runtime_checkable
class OdtConverter(Protocol):
    """A converter that also writes a DOCX as ODT (the pool): middle parts go as ODT."""

    def to_odt(self, docx: bytes) -> bytes:
        """`docx` in LibreOffice's own format."""
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


def plan_parts(
    layout: ListDocument, parallelism: int, *, odt: bool = False
) -> list[PartPlan] | None:
    """Pages and parts for `layout`, or None when a row cannot be placed on a page.

    With `odt` (middle parts written as ODT, docgen.listodt) the first and last parts are
    short, being the only ones LibreOffice reads from DOCX, and the middle ones fewer (ODT's
    fixed cost per part is most of a short one's).
    """
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
    if odt:
        parts = parallelism * max(1, math.ceil(rows / (parallelism * ROWS_PER_ODT_PART)))
        plans = group_between_ends(pages, parts, layout.page_number_start)
        if plans is not None:
            return plans
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
    odt = isinstance(converter, OdtConverter)
    plans = plan_parts(layout, converter.parallelism, odt=odt)
    if plans is None or len(plans) < 2:
        return None
    with ThreadPoolExecutor(converter.parallelism, thread_name_prefix="longlist") as executor:
        try:
            pdfs = _PartsConversion(docx, layout, plans, converter, executor, pdf_a).run()
        finally:
            executor.shutdown(cancel_futures=True)  # after a failure: the parts not yet started
    if pdfs is None:
        return None
    converted = time.monotonic()
    merged = merge_pdfs(pdfs)
    log.info(
        "longlist.converted rows=%d parts=%d convert_s=%.2f merge_s=%.2f",
        len(layout.row_heights_pt),
        len(plans),
        converted - started,
        time.monotonic() - converted,
    )
    return merged


class _PartsConversion:
    """The parts of one document converted side by side, middle parts as ODT where they can be.

    The ends (DOCX) and the ODT prototype go to the converter first; the middle parts are
    written while LibreOffice works on those.
    """

    def __init__(
        self,
        docx: bytes,
        layout: ListDocument,
        plans: list[PartPlan],
        converter: ParallelConverter,
        executor: ThreadPoolExecutor,
        pdf_a: bool,
    ) -> None:
        self.docx, self.layout, self.plans = docx, layout, plans
        self.converter, self.executor, self.pdf_a = converter, executor, pdf_a

    def run(self) -> list[bytes] | None:
        plans = self.plans
        middle = plans[1:-1]
        prototype: Future[bytes] | None = None
        sample = (
            PartPlan(middle[0].pages[:2], middle[0].first_page_number, False, False)
            if middle
            else None
        )
        if sample is not None and isinstance(self.converter, OdtConverter):
            prototype = self.executor.submit(self.converter.to_odt, self._docx(sample))
        ends = [self._submit(self._docx(p)) for p in (plans[0], plans[-1])]
        odt_parts = self._odt_parts(middle, sample, prototype)
        futures = [ends[0]]
        for n, plan in enumerate(middle):
            document = odt_parts[n] if odt_parts else self._docx(plan)
            futures.append(self._submit(document))
        futures.append(ends[1])
        pdfs = [f.result() for f in futures]
        # Each part but the last must have its planned pages: a row predicted too short
        # pushes one onto an extra page. An ODT part that does is tried once more as DOCX.
        for number, plan in enumerate(plans[:-1]):
            pages = count_pages(pdfs[number])
            if pages != len(plan.pages) and odt_parts and number > 0:
                log.warning("longlist.odt_repaged part=%d", number + 1)
                pdfs[number] = self.converter.to_pdf(self._docx(plan), pdf_a=self.pdf_a)
                pages = count_pages(pdfs[number])
            if pages != len(plan.pages):
                log.warning(
                    "longlist.fallback part=%d planned_pages=%d pages=%d",
                    number + 1,
                    len(plan.pages),
                    pages,
                )
                return None
        return pdfs

    def _docx(self, plan: PartPlan) -> bytes:
        return part_docx(self.docx, self.layout, plan)

    def _submit(self, document: bytes) -> Future[bytes]:
        return self.executor.submit(self.converter.to_pdf, document, pdf_a=self.pdf_a)

    def _odt_parts(
        self, middle: list[PartPlan], sample: PartPlan | None, prototype: Future[bytes] | None
    ) -> list[bytes] | None:
        """The middle parts as ODT, or None when their rows or the prototype do not allow it."""
        if prototype is None or sample is None:
            return None
        rows = data_rows(self.layout)
        begin, end = sample.rows
        texts = plain_rows(rows[middle[0].rows[0] : middle[-1].rows[1]], rows[begin])
        if texts is None:
            prototype.cancel()  # if it has not started: the instance is free for a part
            log.info("longlist.odt_skipped reason=rows")
            return None
        offset = middle[0].rows[0]
        try:
            odt = prototype.result()
        except DocgenError as exc:  # the parts can still go as DOCX
            log.warning("longlist.odt_skipped reason=%s", exc.code)
            return None
        written = OdtPrototype.read(odt, texts[begin - offset : end - offset])
        if written is None:
            log.warning("longlist.odt_skipped reason=prototype")
            return None
        return [
            written.part(
                [texts[a - offset : b - offset] for a, b in plan.pages], plan.first_page_number
            )
            for plan in middle
        ]
