"""Middle parts of a long list written as ODT, from one part LibreOffice converted itself.

LibreOffice reads its own format about three times faster than DOCX: a 64-page part took
≈0.9 s from ODT and ≈2.5–3.2 s from DOCX here, the DOCX import being most of it (docs/
BENCHMARKS.md §3). A middle part of a long list (docgen.listparts) is nothing but page tables,
each the same header rows and plain rows of text, so:

1. LibreOffice converts a *prototype* — a two-page part built by docgen.listparts from the
   document's own rows — to ODT once;
2. `OdtPrototype.read` learns from it the first and the following page tables (styles, columns,
   header rows), the page-break paragraph and one data row, and checks that LibreOffice wrote
   every data row of the prototype alike and with the DOCX's texts;
3. `OdtPrototype.part` writes any middle part: the page tables with the part's rows, the
   first table starting the part's page numbers.

Only rows that are plain text are written this way: every cell one paragraph of plain runs
whose properties (row, cell, paragraph) are those of the prototype's rows and whose text ODF
would not change (no tabs, breaks or runs of spaces, which ODF collapses). `plain_rows` answers
None otherwise, and the caller keeps the DOCX parts.
"""

from __future__ import annotations

import copy
import io
import re
import zipfile
from collections.abc import Sequence
from typing import Any

from lxml import etree

from docgen.listlayout import w

__all__ = ["OdtPrototype", "plain_rows"]

_NS = {
    "office": "urn:oasis:names:tc:opendocument:xmlns:office:1.0",
    "style": "urn:oasis:names:tc:opendocument:xmlns:style:1.0",
    "table": "urn:oasis:names:tc:opendocument:xmlns:table:1.0",
    "text": "urn:oasis:names:tc:opendocument:xmlns:text:1.0",
}


def _q(name: str) -> str:
    prefix, local = name.split(":")
    return f"{{{_NS[prefix]}}}{local}"


_TABLE, _ROW, _CELL, _HEADER_ROWS = (
    _q("table:table"),
    _q("table:table-row"),
    _q("table:table-cell"),
    _q("table:table-header-rows"),
)
_P, _STYLE_NAME, _NAME = _q("text:p"), _q("table:style-name"), _q("table:name")
_T, _R, _PPR, _TC, _TCPR = (w(t) for t in ("t", "r", "pPr", "tc", "tcPr"))
# What ODF would not keep as written: leading, trailing or repeated spaces, tabs, line ends.
_NOT_KEPT = re.compile(r"^ | $|  |[\t\n\r]")


# A run's text, however written: what `_shape` leaves out.
_RUN_TEXT = re.compile(rb"<w:t(?: [^>]*)?>[^<]*</w:t>|<w:t/>")


def _shape(row: Any) -> bytes:
    """The row's XML without its texts: rows of one shape are written alike."""
    return _RUN_TEXT.sub(b"", etree.tostring(row))


def _cell_text(cell: Any) -> str | None:
    """The text of a cell of one paragraph of plain runs, else None."""
    paragraphs = [c for c in cell if c.tag != _TCPR]
    if len(paragraphs) != 1 or paragraphs[0].tag != w("p"):
        return None
    text: list[str] = []
    for run in paragraphs[0]:
        if run.tag == _PPR:
            continue
        if run.tag != _R:
            return None  # a hyperlink, a field, a bookmark: not a plain run
        for child in run:
            if child.tag != _T:
                return None  # run properties (a fallback font), breaks, tabs
            text.append(child.text or "")
    joined = "".join(text)
    return None if _NOT_KEPT.search(joined) else joined


def plain_rows(rows: Sequence[Any], reference: Any) -> list[list[str]] | None:
    """Every row's cell texts, when every row is plain text of `reference`'s shape; else None."""
    shape = _shape(reference)
    found: list[list[str]] = []
    for row in rows:
        if _shape(row) != shape:
            return None
        texts = [_cell_text(cell) for cell in row.iterchildren(_TC)]
        if any(t is None for t in texts):
            return None
        found.append([t for t in texts if t is not None])
    return found


class OdtPrototype:
    """The ODT of a two-page middle part, ready to write other middle parts from."""

    def __init__(
        self,
        files: dict[str, bytes],
        content: Any,
        tables: list[Any],
        between: Any,
        rows: list[Any],
    ) -> None:
        self._files = files  # every file of the package but content.xml, in order
        self._content = content  # with the page tables still in, emptied of their rows
        self._first, self._next = tables  # the first page table and the ones after it
        self._between = between  # the page-break paragraph between two page tables
        self._rows = rows  # a data row of each, its texts replaced for each row written

    @classmethod
    def read(cls, odt: bytes, expected: Sequence[Sequence[str]]) -> OdtPrototype | None:
        """The prototype in `odt`, whose data rows should read `expected`; None when
        LibreOffice wrote it otherwise than this module writes parts."""
        with zipfile.ZipFile(io.BytesIO(odt)) as package:
            files = {n: package.read(n) for n in package.namelist()}
        content = etree.fromstring(files.pop("content.xml"))
        body = content.find(f"{_q('office:body')}/{_q('office:text')}")
        if body is None:
            return None
        tables = body.findall(_TABLE)
        if len(tables) != 2 or tables[0].getprevious() is None:
            return None
        between = tables[0].getnext()
        if between is None or between.tag != _P or between.getnext() is not tables[1]:
            return None
        rows = [r for t in tables for r in t.iterchildren(_ROW)]
        if [_row_texts(r) for r in rows] != [list(e) for e in expected]:
            return None  # a cell LibreOffice split into spans or paragraphs
        # Each page table's rows name that table's styles, otherwise all alike.
        if any(len({_odt_shape(r) for r in t.iterchildren(_ROW)}) != 1 for t in tables):
            return None
        samples = [t.find(_ROW) for t in tables]
        for table in tables:
            for row in table.findall(_ROW):
                table.remove(row)
        return cls(files, content, tables, between, samples)

    def part(self, pages: Sequence[Sequence[Sequence[str]]], first_page_number: int) -> bytes:
        """The ODT of a middle part: one page table per page of rows (cell texts)."""
        content = copy.deepcopy(self._content)
        body = content.find(f"{_q('office:body')}/{_q('office:text')}")
        first = body.find(_TABLE)
        anchor = first.getprevious()
        for element in [first, first.getnext(), *body.findall(_TABLE)[1:]]:
            body.remove(element)
        for n, rows in enumerate(pages):
            if n > 0:
                anchor.addnext(copy.deepcopy(self._between))
                anchor = anchor.getnext()
            table = copy.deepcopy(self._first if n == 0 else self._next)
            table.set(_NAME, f"Table{n + 1}")
            sample = self._rows[0 if n == 0 else 1]
            for texts in rows:
                table.append(_filled(sample, texts))
            anchor.addnext(table)
            anchor = table
        _set_page_number(content, self._first.get(_STYLE_NAME), first_page_number)
        return _package(self._files, content)


def _filled(sample: Any, texts: Sequence[str]) -> Any:
    row = copy.deepcopy(sample)
    for cell, text in zip(row.iterchildren(_CELL), texts, strict=True):
        cell.find(_P).text = text
    return row


def _row_texts(row: Any) -> list[str] | None:
    texts = []
    for cell in row.iterchildren(_CELL):
        paragraphs = list(cell)
        if len(paragraphs) != 1 or paragraphs[0].tag != _P or len(paragraphs[0]):
            return None
        texts.append(paragraphs[0].text or "")
    return texts


def _odt_shape(row: Any) -> tuple[str | None, ...]:
    cells = list(row.iterchildren(_CELL))
    return (
        row.get(_STYLE_NAME),
        *(c.get(_STYLE_NAME) for c in cells),
        *(c[0].get(_q("text:style-name")) for c in cells),
    )


def _set_page_number(content: Any, style_name: str | None, number: int) -> None:
    for style in content.iter(_q("style:style")):
        if style.get(_q("style:name")) == style_name:
            properties = style.find(_q("style:table-properties"))
            if properties is not None:
                properties.set(_q("style:page-number"), str(number))
                return
    raise ValueError(f"no table style {style_name!r} to start page numbers with")


def _package(files: dict[str, bytes], content: Any) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as package:
        # ODF: `mimetype` first and stored, so that a reader can tell the format at a glance.
        package.writestr("mimetype", files["mimetype"], compress_type=zipfile.ZIP_STORED)
        package.writestr(
            "content.xml", etree.tostring(content, xml_declaration=True, encoding="UTF-8")
        )
        for name, data in files.items():
            if name != "mimetype":
                package.writestr(name, data)
    return out.getvalue()
