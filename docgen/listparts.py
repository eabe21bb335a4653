"""The DOCX of one part of a long list: whole pages of the table, numbered where they belong.

A part is the rendered document with its body replaced (styles, footers, settings, section
stay the same bytes):

- in every part but the last, each planned page of the table is its own table — the same
  properties, grid and header rows, then that page's rows — and every page after the part's
  first starts with a page break, so LibreOffice breaks exactly where the plan does (no drift
  from a row predicted a little off; a row predicted too short shows as an extra page);
- the first part keeps what stands before the table, the last part what follows it; the last
  part's rows are one table flowing into the rest, laid out by LibreOffice as in the one-piece
  document (its page count numbers nothing after it, so it needs no plan);
- parts after the first start their page numbers (`w:pgNumType w:start`) where the previous part
  ends, so that LibreOffice draws the footers — "— n —", odd pages right, even pages left —
  with the numbers of the whole document.

The page break is a paragraph 1 pt high with `w:pageBreakBefore` (between two tables Word needs a
paragraph anyway); a part that ends with a table ends with such a paragraph, without the break.
"""

from __future__ import annotations

import copy
import io
import zipfile
from typing import Any

from lxml import etree

from docgen.listlayout import ListDocument, w
from docgen.listpacking import PartPlan

__all__ = ["BREAK_HEIGHT_PT", "data_rows", "part_docx"]

BREAK_HEIGHT_PT = 1.0  # the page-break paragraph, at the top of each page it starts

# Elements of w:sectPr that must come before w:pgNumType (ECMA-376 Part 1, 17.6.17).
_BEFORE_PGNUMTYPE = frozenset(
    w(t)
    for t in (
        "headerReference",
        "footerReference",
        "footnotePr",
        "endnotePr",
        "type",
        "pgSz",
        "pgMar",
        "paperSrc",
        "pgBorders",
        "lnNumType",
    )
)


def _thin_paragraph(page_break: bool) -> Any:
    p = etree.Element(w("p"))
    ppr = etree.SubElement(p, w("pPr"))
    if page_break:
        etree.SubElement(ppr, w("pageBreakBefore"))
    spacing = etree.SubElement(ppr, w("spacing"))
    for name, value in (("before", "0"), ("after", "0"), ("line", "20"), ("lineRule", "exact")):
        spacing.set(w(name), value)
    indent = etree.SubElement(ppr, w("ind"))
    indent.set(w("firstLine"), "0")
    rpr = etree.SubElement(ppr, w("rPr"))
    for tag in ("sz", "szCs"):
        etree.SubElement(rpr, w(tag)).set(w("val"), "2")
    return p


def _section(original: Any, first_page_number: int | None) -> Any:
    section = copy.deepcopy(original)
    if first_page_number is None:
        return section
    numbering = section.find(w("pgNumType"))
    if numbering is None:
        numbering = etree.Element(w("pgNumType"))
        anchor = None
        for child in section:
            if child.tag in _BEFORE_PGNUMTYPE:
                anchor = child
        if anchor is None:
            section.insert(0, numbering)
        else:
            anchor.addnext(numbering)
    numbering.set(w("start"), str(first_page_number))
    return section


def data_rows(layout: ListDocument) -> list[Any]:
    """The long table's data rows (w:tr elements), without its header rows."""
    table = list(layout.root.find(w("body")))[layout.table_index]
    rows: list[Any] = table.findall(w("tr"))
    return rows[len(rows) - len(layout.row_heights_pt) :]


def part_docx(docx: bytes, layout: ListDocument, plan: PartPlan) -> bytes:
    """The DOCX of `plan`'s part of `docx` (whose layout `layout` describes)."""
    root = layout.root
    children = list(root.find(w("body")))
    table = children[layout.table_index]
    rows = table.findall(w("tr"))
    headers = len(rows) - len(layout.row_heights_pt)
    head, data = rows[:headers], rows[headers:]
    fixed = [c for c in table if c.tag != w("tr")]  # tblPr, tblGrid

    document = etree.Element(root.tag, nsmap=root.nsmap)
    for name, value in root.attrib.items():
        document.set(name, value)
    body = etree.SubElement(document, w("body"))
    if plan.front:
        for child in children[: layout.table_index]:
            body.append(copy.deepcopy(child))
    # The last part's rows flow as one table into what follows: LibreOffice fills its pages.
    pages = [plan.rows] if plan.rest else plan.pages
    for n, (start, end) in enumerate(pages):
        if n > 0:
            body.append(_thin_paragraph(page_break=True))
        page_table = etree.SubElement(body, w("tbl"))
        for element in (*fixed, *head):
            page_table.append(copy.deepcopy(element))
        for row in data[start:end]:
            page_table.append(copy.deepcopy(row))
    if plan.rest:
        for child in children[layout.table_index + 1 : -1]:
            body.append(copy.deepcopy(child))
    else:
        body.append(_thin_paragraph(page_break=False))
    number = None if plan.front else plan.first_page_number
    body.append(_section(children[-1], number))

    out = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(docx)) as source,
        # Level 1: the parts live for seconds; compressing harder only costs time.
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as target,
    ):
        for info in source.infolist():
            if info.filename == "word/document.xml":
                data_xml = etree.tostring(
                    document, xml_declaration=True, encoding="UTF-8", standalone=True
                )
                target.writestr(info.filename, data_xml)
            else:
                target.writestr(info.filename, source.read(info.filename))
    return out.getvalue()
