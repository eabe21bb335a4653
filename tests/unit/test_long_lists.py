"""Long lists: predicting row heights, packing rows into pages and pages into parts, and the
split path's decisions — with fake converters (the real proof is tests/integration)."""

from __future__ import annotations

import io
import itertools
import threading
import zipfile
from typing import Any

import msgspec
import pytest
from lxml import etree

from doc_templates import TEMPLATES_DIR
from docgen.context import build_context
from docgen.errors import DocgenError
from docgen.listlayout import read_list_document, w
from docgen.listodt import plain_rows
from docgen.listpacking import RowTooTall, group_between_ends, group_pages, pack_pages
from docgen.listparts import data_rows
from docgen.longlists import (
    SPLIT_MIN_ROWS,
    _typesetters,
    convert_document,
    plan_parts,
)
from docgen.render import render_docx
from docgen.schema import JobRequest
from docgen.settings import load_settings
from docgen.templates import load_catalogue
from docgen.typesetting import Typesetter
from tests.fakes import blank_pdf

FONTCONFIG = load_settings({}).converter.fontconfig_file


def long_docx(sample_dict: dict[str, Any], rows: int) -> bytes:
    data = dict(sample_dict)
    seed = data["supply_demand"]["talent_demand"]
    data["supply_demand"] = {
        **data["supply_demand"],
        "talent_demand": [
            {**seed[i % len(seed)], "contact_phone": f"138{i:08d}"} for i in range(rows)
        ],
    }
    request = msgspec.convert(data, JobRequest)
    template = load_catalogue(TEMPLATES_DIR)["supply_demand"]
    return render_docx(
        template.read(), build_context(request, "supply_demand"), template.file, None
    )


# -- packing --------------------------------------------------------------------------------------


def test_rows_fill_each_page_until_the_next_would_not_fit() -> None:
    assert pack_pages([10.0] * 7, first_capacity=25, capacity=30) == [(0, 2), (2, 5), (5, 7)]


def test_a_row_exactly_as_tall_as_the_room_left_still_fits() -> None:
    assert pack_pages([10.0, 10.0, 10.0], first_capacity=20, capacity=20) == [(0, 2), (2, 3)]


def test_the_first_page_takes_no_row_when_none_fits_after_the_front_matter() -> None:
    assert pack_pages([10.0, 10.0], first_capacity=5, capacity=30)[0] == (0, 0)


def test_a_row_taller_than_a_page_cannot_be_packed() -> None:
    with pytest.raises(RowTooTall, match="row 2"):
        pack_pages([10.0, 50.0], first_capacity=30, capacity=30)


def test_parts_share_the_rows_by_pairs_of_pages_and_number_their_pages_on() -> None:
    pages = [(i * 10, i * 10 + 10) for i in range(12)]  # 12 pages of 10 rows
    plans = group_pages(pages, parts=4, first_page_number=1)
    assert [plan.rows for plan in plans] == [(0, 40), (40, 60), (60, 100), (100, 120)]
    assert [plan.first_page_number for plan in plans] == [1, 5, 7, 11]
    assert [(plan.front, plan.rest) for plan in plans] == [
        (True, False),
        (False, False),
        (False, False),
        (False, True),
    ]


def test_every_part_starts_on_a_page_number_of_the_first_pages_parity() -> None:
    pages = [(i * 10, i * 10 + 10) for i in range(13)]
    for parts in (2, 3, 4, 5):
        plans = group_pages(pages, parts=parts, first_page_number=1)
        assert all(plan.first_page_number % 2 == 1 for plan in plans), parts
        assert [p for plan in plans for p in plan.pages] == pages


def test_never_more_parts_than_pairs_of_pages_and_none_empty() -> None:
    pages = [(0, 5), (5, 9), (9, 12), (12, 14), (14, 15)]
    plans = group_pages(pages, parts=8, first_page_number=3)
    assert [plan.pages for plan in plans] == [pages[:2], pages[2:]]
    assert [plan.first_page_number for plan in plans] == [3, 5]


def test_a_short_first_page_does_not_unbalance_the_parts() -> None:
    pages = [(0, 3), *((3 + i * 13, 16 + i * 13) for i in range(20))]
    plans = group_pages(pages, parts=2)
    first, second = (plan.rows[1] - plan.rows[0] for plan in plans)
    assert abs(first - second) <= 2 * 13  # parts are whole pairs of pages


# -- typesetting ----------------------------------------------------------------------------------


def test_between_short_ends_the_middle_parts_have_even_pages_and_numbers_run_on() -> None:
    pages = [(i * 10, i * 10 + 10) for i in range(23)]
    plans = group_between_ends(pages, parts=2, first_page_number=1)
    assert plans is not None
    first, *middle, last = plans
    assert first.pages == pages[:2] and first.front and not first.rest
    assert last.rest and not last.front and len(last.pages) in (2, 3)
    assert len(middle) == 2 and all(len(p.pages) % 2 == 0 for p in middle)
    assert not any(p.front or p.rest for p in middle)
    assert [page for p in plans for page in p.pages] == pages
    numbers = [p.first_page_number for p in plans]
    assert numbers == list(itertools.accumulate([1] + [len(p.pages) for p in plans[:-1]]))


def test_no_middle_parts_between_ends_when_the_table_is_too_short() -> None:
    assert group_between_ends([(0, 10), (10, 20), (20, 30), (30, 40), (40, 45)], parts=2) is None


@pytest.fixture(scope="module")
def song() -> Typesetter:
    return Typesetter.for_official_fonts("仿宋_GB2312", "Times New Roman", FONTCONFIG)


def test_han_characters_are_one_em_wide_and_wrap_at_the_line_end(song: Typesetter) -> None:
    assert song.lines("轨" * 17, 10.0, 170.0) == 1
    assert song.lines("轨" * 18, 10.0, 170.0) == 2


def test_a_comma_at_the_line_end_hangs_instead_of_pulling_a_character_down(
    song: Typesetter,
) -> None:
    assert song.lines("轨" * 17 + "，", 10.0, 170.0) == 1


def test_a_closing_mark_never_starts_a_line(song: Typesetter) -> None:
    # "）" cannot hang: it goes to the next line together with the character before it.
    assert song.lines("轨" * 16 + "车）", 10.0, 170.0) == 2


def test_a_number_is_not_broken_while_it_fits_on_a_line(song: Typesetter) -> None:
    text = "轨" * 15 + "13800000000"
    assert song.lines(text, 10.0, 170.0) == 2


def test_single_spacing_is_the_cjk_face_height(song: Typesetter) -> None:
    # Noto Serif CJK SC: ascent 1151 + descent 286 per 1000 (LibreOffice's PDFs: 15.09 pt).
    assert song.line_height_pt("轨道", 10.5) == pytest.approx(15.09, abs=0.01)


# -- the document's layout ------------------------------------------------------------------------


def test_the_supply_demand_list_is_read_with_its_heights(sample_dict: dict[str, Any]) -> None:
    layout = read_list_document(long_docx(sample_dict, 40), _typesetters(FONTCONFIG))
    assert layout is not None
    assert layout.table_index == 4  # after 附件3, the title, the community and the heading
    assert len(layout.row_heights_pt) == 40
    # Two lines of 10.5 pt 仿宋 (2 × 15.09) and the 0.5 pt rule between rows: 30.7 pt measured.
    assert layout.row_heights_pt[0] == pytest.approx(30.68, abs=0.05)
    assert layout.header_height_pt == pytest.approx(35.0, abs=0.1)  # two 0.6 cm rows + rules
    assert layout.body_height_pt == pytest.approx(453.6)  # landscape A4 less 2.5 cm margins
    assert 100 < layout.front_height_pt < 160


def with_document_xml(docx: bytes, change: Any) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(docx)) as src, zipfile.ZipFile(out, "w") as dst:
        for info in src.infolist():
            data = src.read(info.filename)
            if info.filename == "word/document.xml":
                root = etree.fromstring(data)
                change(root.find(w("body")))
                data = etree.tostring(root)
            dst.writestr(info.filename, data)
    return out.getvalue()


def test_a_table_before_the_long_list_is_not_a_shape_it_splits(
    sample_dict: dict[str, Any],
) -> None:
    def table_first(body: Any) -> None:
        body.insert(0, etree.SubElement(body, w("tbl")))

    docx = with_document_xml(long_docx(sample_dict, 40), table_first)
    assert read_list_document(docx, _typesetters(FONTCONFIG)) is None


def test_a_second_section_is_not_a_shape_it_splits(sample_dict: dict[str, Any]) -> None:
    def two_sections(body: Any) -> None:
        first = body[0]
        first.find(w("pPr")).append(etree.fromstring(etree.tostring(body[-1])))

    docx = with_document_xml(long_docx(sample_dict, 40), two_sections)
    assert read_list_document(docx, _typesetters(FONTCONFIG)) is None


def test_a_long_list_is_planned_as_full_pages_in_parts_per_instance(
    sample_dict: dict[str, Any],
) -> None:
    layout = read_list_document(long_docx(sample_dict, 600), _typesetters(FONTCONFIG))
    assert layout is not None
    plans = plan_parts(layout, parallelism=2)
    assert plans is not None and len(plans) % 2 == 0
    pages = [page for plan in plans for page in plan.pages]
    assert pages[0][0] == 0 and pages[-1][1] == 600
    assert all(a[1] == b[0] for a, b in itertools.pairwise(pages))
    # 附件3's two-line rows: 13 to a page after the header rows (LibreOffice puts 13 too).
    assert {end - start for start, end in pages[1:-1]} == {13}


# -- the split path's decisions -------------------------------------------------------------------


class PagingConverter:
    """Answers as many blank pages as a part plans (its page-break paragraphs + 1), or `extra`
    more; fails the call numbered `fail_on`. Runs `parallelism` calls at once."""

    def __init__(self, *, extra: int = 0, fail_on: int = 0, parallelism: int = 2) -> None:
        self.extra = extra
        self.fail_on = fail_on
        self.parallelism = parallelism
        self.fontconfig_file = FONTCONFIG
        self.calls: list[bytes] = []
        self._lock = threading.Lock()

    def to_pdf(self, docx: bytes, *, pdf_a: bool = False) -> bytes:
        with self._lock:
            self.calls.append(docx)
            number = len(self.calls)
        if number == self.fail_on:
            raise DocgenError("conversion.failed", "PDF 转换失败", "PDF conversion failed")
        with zipfile.ZipFile(io.BytesIO(docx)) as package:
            xml = package.read("word/document.xml")
        return blank_pdf(xml.count(b"pageBreakBefore") + 1 + self.extra)


def test_a_short_list_is_converted_in_one_piece(sample_dict: dict[str, Any]) -> None:
    converter = PagingConverter()
    docx = long_docx(sample_dict, 40)
    convert_document(docx, converter, pdf_a=False, rows=40)
    assert converter.calls == [docx]


def test_a_long_list_is_converted_in_parts_and_merged(sample_dict: dict[str, Any]) -> None:
    converter = PagingConverter()
    docx = long_docx(sample_dict, SPLIT_MIN_ROWS + 100)
    pdf = convert_document(docx, converter, pdf_a=False, rows=SPLIT_MIN_ROWS + 100)
    assert len(converter.calls) >= 2 and docx not in converter.calls
    planned = sum(c.count(b"pageBreakBefore") + 1 for c in map(_document_xml, converter.calls))
    assert _pages(pdf) == planned


def test_a_part_paged_otherwise_than_planned_falls_back_to_one_piece(
    sample_dict: dict[str, Any],
) -> None:
    converter = PagingConverter(extra=1)
    docx = long_docx(sample_dict, SPLIT_MIN_ROWS + 100)
    convert_document(docx, converter, pdf_a=False, rows=SPLIT_MIN_ROWS + 100)
    assert converter.calls[-1] == docx


def test_a_failed_part_fails_the_document(sample_dict: dict[str, Any]) -> None:
    converter = PagingConverter(fail_on=2)
    docx = long_docx(sample_dict, SPLIT_MIN_ROWS + 100)
    with pytest.raises(DocgenError, match="PDF conversion failed"):
        convert_document(docx, converter, pdf_a=False, rows=SPLIT_MIN_ROWS + 100)
    assert docx not in converter.calls


def test_one_instance_converts_in_one_piece(sample_dict: dict[str, Any]) -> None:
    converter = PagingConverter(parallelism=1)
    docx = long_docx(sample_dict, SPLIT_MIN_ROWS + 100)
    convert_document(docx, converter, pdf_a=False, rows=SPLIT_MIN_ROWS + 100)
    assert converter.calls == [docx]


def _document_xml(docx: bytes) -> bytes:
    with zipfile.ZipFile(io.BytesIO(docx)) as package:
        return package.read("word/document.xml")


def _pages(pdf: bytes) -> int:
    from pypdf import PdfReader

    return len(PdfReader(io.BytesIO(pdf)).pages)


# -- middle parts as ODT: which rows qualify ------------------------------------------------------


def _rows(sample_dict: dict[str, Any], change: Any = None) -> list[Any]:
    docx = long_docx(sample_dict, 30)
    if change is not None:
        docx = with_document_xml(docx, change)
    layout = read_list_document(docx, _typesetters(FONTCONFIG))
    assert layout is not None
    return data_rows(layout)


def _in_row(n: int, change: Any) -> Any:
    """A change to the long list's `n`-th data row (the first table of the body)."""

    def changing(body: Any) -> None:
        table = body.findall(w("tbl"))[0]
        change(table.findall(w("tr"))[2 + n])  # after the two header rows

    return changing


def test_plain_rows_give_their_cells_texts(sample_dict: dict[str, Any]) -> None:
    rows = _rows(sample_dict)
    texts = plain_rows(rows, rows[0])
    assert texts is not None and len(texts) == 30
    assert texts[3][0] == "4" and texts[3][-1] == "13800000003"
    assert all(len(t) == 8 for t in texts)


@pytest.mark.parametrize(
    "change",
    [
        # a run with its own properties (a fallback font for a character, say)
        lambda row: row.find(f".//{w('r')}").insert(0, etree.Element(w("rPr"))),
        # a line break inside a cell
        lambda row: row.find(f".//{w('r')}").append(etree.Element(w("br"))),
        # spaces ODF would collapse
        lambda row: setattr(row.find(f".//{w('t')}"), "text", "二  级"),
        # a cell aligned otherwise: another shape
        lambda row: row.find(f".//{w('pPr')}").append(etree.Element(w("jc"), {w("val"): "right"})),
    ],
    ids=["run-properties", "line-break", "double-space", "other-shape"],
)
def test_one_row_that_is_not_plain_text_keeps_the_docx_parts(
    sample_dict: dict[str, Any], change: Any
) -> None:
    rows = _rows(sample_dict, _in_row(17, change))
    assert plain_rows(rows, rows[0]) is None


class OdtPagingConverter(PagingConverter):
    """A `PagingConverter` that also answers `to_odt`, with an ODT of no page tables."""

    def __init__(self, *, fails: bool = False) -> None:
        super().__init__()
        self.odt_calls = 0
        self.fails = fails

    def to_odt(self, docx: bytes) -> bytes:
        self.odt_calls += 1
        if self.fails:
            raise DocgenError("conversion.failed", "PDF 转换失败", "PDF conversion failed")
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w") as package:
            package.writestr("mimetype", "application/vnd.oasis.opendocument.text")
            package.writestr(
                "content.xml",
                "<office:document-content xmlns:office="
                "'urn:oasis:names:tc:opendocument:xmlns:office:1.0'/>",
            )
        return out.getvalue()


@pytest.mark.parametrize("fails", [False, True], ids=["unexpected-odt", "failed-conversion"])
def test_a_prototype_not_as_expected_keeps_the_docx_parts(
    sample_dict: dict[str, Any], fails: bool
) -> None:
    converter = OdtPagingConverter(fails=fails)
    rows = 1_000
    pdf = convert_document(long_docx(sample_dict, rows), converter, pdf_a=False, rows=rows)
    assert converter.odt_calls == 1
    assert all(c.startswith(b"PK") and b"word/document.xml" in c for c in converter.calls)
    planned = sum(c.count(b"pageBreakBefore") + 1 for c in map(_document_xml, converter.calls))
    assert _pages(pdf) == planned
