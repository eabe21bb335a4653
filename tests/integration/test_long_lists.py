"""A long 人才需求清单 through render_attachment on a real pool of two LibreOffice instances:
converted in page-aligned parts, it must read exactly like the one-piece conversion."""

from __future__ import annotations

import io
import re
import subprocess
import xml.etree.ElementTree as ET
import zipfile
from collections.abc import Iterator
from typing import Any

import msgspec
import pytest

from docgen.longlists import SPLIT_MIN_ROWS
from docgen.pdfinfo import pdf_facts
from docgen.pipeline import Rendered, render_attachment
from docgen.pool import ConverterPool, PoolSettings
from docgen.schema import JobRequest
from docgen.settings import load_settings
from docgen.templates import load_catalogue

pytestmark = pytest.mark.integration

ROWS = 600  # four parts on two instances; ≈45 pages
PHONE = re.compile(r"^138\d{8}$")
FOOTER = re.compile(r"^—(\d+)—$")


class Page(msgspec.Struct):
    width: float
    lines: list[tuple[str, float]]  # text without spaces, left edge


def pdf_pages(pdf: bytes) -> list[Page]:
    """Every page's text lines with their left edge (poppler's `pdftotext -bbox-layout`)."""
    raw = subprocess.run(
        ["pdftotext", "-bbox-layout", "-", "-"], input=pdf, capture_output=True, check=True
    ).stdout
    raw = b"<html>" + raw[raw.find(b"</head>") + len(b"</head>") :]
    xhtml = raw.decode().replace('xmlns="http://www.w3.org/1999/xhtml"', "")
    pages = []
    for page in ET.fromstring(xhtml).iter("page"):
        lines = [
            ("".join(word.text or "" for word in line.iter("word")), float(line.get("xMin", 0)))
            for line in page.iter("line")
        ]
        pages.append(Page(float(page.get("width", 0)), lines))
    return pages


def phones(page: Page) -> list[str]:
    return [text for text, _ in page.lines if PHONE.match(text)]


@pytest.fixture(scope="module")
def pool(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ConverterPool]:
    settings = load_settings({})
    converters = ConverterPool(
        settings.converter.unoserver_bin,
        settings.converter.fontconfig_file,
        PoolSettings(size=2, timeout_s=120.0),
        workdir=tmp_path_factory.mktemp("long-list-pool"),
    ).start()
    yield converters
    converters.stop()


@pytest.fixture(scope="module")
def long_request(sample_bytes: bytes) -> JobRequest:
    data: dict[str, Any] = msgspec.json.decode(sample_bytes)
    seed = data["supply_demand"]["talent_demand"]
    data["supply_demand"]["talent_demand"] = [
        {**seed[i % len(seed)], "count": 1 + i % 97, "contact_phone": f"138{i:08d}"}
        for i in range(ROWS)
    ]
    data["pdf_a"] = True
    return msgspec.convert(data, JobRequest)


class Recording:
    """The pool, noting what each conversion was given: DOCX or ODT (a zip whose first file is
    `mimetype`, ODF's rule), converted to PDF or to ODT."""

    ODT = b"mimetypeapplication/vnd.oasis.opendocument.text"

    def __init__(self, pool: ConverterPool) -> None:
        self.pool = pool
        self.conversions: list[str] = []
        self.parallelism = pool.parallelism
        self.fontconfig_file = pool.fontconfig_file

    def _note(self, document: bytes, to: str) -> None:
        given = "odt" if document[30:].startswith(self.ODT) else "docx"
        self.conversions.append(f"{given}->{to}")

    def to_pdf(self, docx: bytes, *, pdf_a: bool = False) -> bytes:
        self._note(docx, "pdf")
        return self.pool.to_pdf(docx, pdf_a=pdf_a)

    def to_odt(self, docx: bytes) -> bytes:
        self._note(docx, "odt")
        return self.pool.to_odt(docx)


@pytest.fixture(scope="module")
def split(long_request: JobRequest, pool: ConverterPool) -> tuple[Rendered, list[str]]:
    """The attachment as the service renders it, and the conversions that took."""
    recording = Recording(pool)
    catalogue = load_catalogue(load_settings({}).templates_dir)
    rendered = render_attachment(long_request, "supply_demand", catalogue, recording)
    return rendered, recording.conversions


@pytest.fixture(scope="module")
def one_piece(split: tuple[Rendered, list[str]], pool: ConverterPool) -> bytes:
    """The same DOCX converted in one piece, as shorter lists are."""
    return pool.to_pdf(split[0].docx, pdf_a=True)


def test_a_long_list_is_converted_in_parts_its_middle_ones_as_odt(
    split: tuple[Rendered, list[str]],
) -> None:
    """The first and last parts from DOCX, the prototype made ODT by LibreOffice, the parts
    between written as ODT from it (docgen.listodt)."""
    assert ROWS >= SPLIT_MIN_ROWS
    conversions = sorted(split[1])
    assert conversions.count("docx->pdf") == 2, conversions
    assert conversions.count("docx->odt") == 1, conversions
    assert conversions.count("odt->pdf") >= 1, conversions
    assert len(conversions) == 3 + conversions.count("odt->pdf")


def test_the_stored_docx_is_the_whole_document(split: tuple[Rendered, list[str]]) -> None:
    with zipfile.ZipFile(io.BytesIO(split[0].docx)) as package:
        xml = package.read("word/document.xml").decode()
    assert xml.count("<w:tbl>") == 4  # the four lists, the first one whole
    assert all(f"138{i:08d}" in xml for i in range(ROWS))


def test_page_numbers_run_on_across_the_parts_odd_right_even_left(
    split: tuple[Rendered, list[str]],
) -> None:
    pages = pdf_pages(split[0].pdf)
    numbers = []
    for page in pages:
        footers = [(int(m[1]), x) for text, x in page.lines if (m := FOOTER.match(text))]
        assert len(footers) == 1, footers
        number, x = footers[0]
        numbers.append(number)
        on_the_right = x > page.width / 2
        assert on_the_right == (number % 2 == 1), f"page {number}'s number is on the wrong side"
    assert numbers == list(range(1, len(pages) + 1))


def test_every_row_is_there_once_in_order_with_the_header_on_each_page(
    split: tuple[Rendered, list[str]],
) -> None:
    pages = pdf_pages(split[0].pdf)
    seen = []
    for number, page in enumerate(pages, start=1):
        rows = phones(page)
        if rows and number > 1:
            texts = {text for text, _ in page.lines}
            assert {"人才需求情况", "需求说明", "联系方式"} <= texts, f"no header on page {number}"
        seen += rows
    assert seen == [f"138{i:08d}" for i in range(ROWS)]


def test_pages_hold_the_rows_the_one_piece_document_holds(
    split: tuple[Rendered, list[str]], one_piece: bytes
) -> None:
    """No part-empty page mid-list: page by page, the same rows as LibreOffice's own layout."""
    ours = [phones(page) for page in pdf_pages(split[0].pdf)]
    theirs = [phones(page) for page in pdf_pages(one_piece)]
    assert ours == theirs
    list_pages = [rows for rows in ours if rows]
    assert all(len(rows) > 1 for rows in list_pages[:-1])


def test_the_merged_pdf_keeps_the_documents_facts(
    split: tuple[Rendered, list[str]], one_piece: bytes
) -> None:
    ours, theirs = split[0].facts, pdf_facts(one_piece)
    assert ours.pdfa_part == theirs.pdfa_part == 2
    assert ours.producer == theirs.producer and ours.producer.startswith("LibreOffice")
    assert ours.fonts == theirs.fonts
    assert ours.pages == theirs.pages


def test_the_merged_pdf_carries_the_documents_title(split: tuple[Rendered, list[str]]) -> None:
    from pypdf import PdfReader

    info = PdfReader(io.BytesIO(split[0].pdf)).metadata
    assert info is not None and "供需清单" in str(info.get("/Title", ""))
