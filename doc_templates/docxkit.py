"""Small python-docx helpers for writing official-looking Chinese templates.

The typography follows GB/T 9704 (党政机关公文格式) where it applies: A4, 仿宋 三号 body text,
黑体 first-level and 楷体 second-level headings, 方正小标宋 titles. The official font names stay
in the .docx (a clerk opening it in WPS gets the real faces); the fontconfig file in
`deploy/fontconfig` maps them to open fonts for LibreOffice (DESIGN §4: unmapped CJK fonts are
slow and fall back to a sans face).
"""

from __future__ import annotations

import datetime as dt
import io
import zipfile

from docx import Document
from docx.enum.section import WD_ORIENT
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_BREAK, WD_LINE_SPACING
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Cm, Pt
from docx.table import Table, _Cell
from docx.text.paragraph import Paragraph

FANGSONG = "仿宋_GB2312"
HEITI = "黑体"
KAITI = "楷体_GB2312"
SONGTI = "宋体"
XIAOBIAOSONG = "方正小标宋简体"
LATIN = "Times New Roman"

# A fixed moment so that rebuilding a template gives the same bytes.
_EPOCH = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)


def _set_fonts(rpr_owner: object, east_asia: str, size_pt: float, bold: bool = False) -> None:
    font = rpr_owner.font  # type: ignore[attr-defined]
    font.name = LATIN
    font.size = Pt(size_pt)
    font.bold = bold
    rpr = rpr_owner.element.get_or_add_rPr()  # type: ignore[attr-defined]
    rfonts = rpr.get_or_add_rFonts()
    rfonts.set(qn("w:eastAsia"), east_asia)
    rfonts.set(qn("w:hint"), "eastAsia")
    lang = rpr.find(qn("w:lang"))
    if lang is None:
        lang = OxmlElement("w:lang")
        rpr.append(lang)
    # Without zh-CN, LibreOffice picks the Japanese Noto variant for Han characters (DESIGN §4).
    lang.set(qn("w:val"), "en-US")
    lang.set(qn("w:eastAsia"), "zh-CN")


class TemplateWriter:
    """One template document being written, with the house styles defined once."""

    def __init__(self, *, landscape: bool = False) -> None:
        self.doc = Document()
        section = self.doc.sections[0]
        section.page_width, section.page_height = Cm(21.0), Cm(29.7)
        if landscape:
            section.orientation = WD_ORIENT.LANDSCAPE
            section.page_width, section.page_height = Cm(29.7), Cm(21.0)
        section.top_margin, section.bottom_margin = Cm(3.7), Cm(3.5)
        section.left_margin, section.right_margin = Cm(2.8), Cm(2.6)
        if landscape:
            section.top_margin = section.bottom_margin = Cm(2.5)
            section.left_margin = section.right_margin = Cm(2.5)
        self._define_styles()

    def _define_styles(self) -> None:
        styles = self.doc.styles
        normal = styles["Normal"]
        _set_fonts(normal, FANGSONG, 16)
        fmt = normal.paragraph_format
        fmt.line_spacing_rule = WD_LINE_SPACING.EXACTLY
        fmt.line_spacing = Pt(28)
        fmt.space_before = fmt.space_after = Pt(0)
        fmt.first_line_indent = Pt(32)  # two characters of 三号
        fmt.widow_control = False

        def para_style(name: str, east_asia: str, size: float, bold: bool = False) -> None:
            style = styles.add_style(name, 1)
            style.base_style = normal
            _set_fonts(style, east_asia, size, bold)

        para_style("DocTitle", XIAOBIAOSONG, 22)
        title = styles["DocTitle"].paragraph_format
        title.alignment = WD_ALIGN_PARAGRAPH.CENTER
        title.first_line_indent = Pt(0)
        title.line_spacing = Pt(36)
        title.space_after = Pt(12)
        para_style("AttachmentLabel", HEITI, 16)
        styles["AttachmentLabel"].paragraph_format.first_line_indent = Pt(0)
        para_style("Heading1Cn", HEITI, 16)
        para_style("Heading2Cn", KAITI, 16)
        para_style("Signature", FANGSONG, 16)
        sig = styles["Signature"].paragraph_format
        sig.alignment = WD_ALIGN_PARAGRAPH.RIGHT
        sig.first_line_indent = Pt(0)
        para_style("TableText", FANGSONG, 10.5)
        cell = styles["TableText"].paragraph_format
        cell.first_line_indent = Pt(0)
        cell.line_spacing_rule = WD_LINE_SPACING.SINGLE
        cell.alignment = WD_ALIGN_PARAGRAPH.CENTER
        para_style("TableHead", HEITI, 10.5)
        head = styles["TableHead"].paragraph_format
        head.first_line_indent = Pt(0)
        head.line_spacing_rule = WD_LINE_SPACING.SINGLE
        head.alignment = WD_ALIGN_PARAGRAPH.CENTER
        para_style("CoverLine", FANGSONG, 16)
        styles["CoverLine"].paragraph_format.first_line_indent = Pt(0)

    # -- paragraphs ---------------------------------------------------------------------------

    def paragraph(self, text: str = "", style: str = "Normal") -> Paragraph:
        return self.doc.add_paragraph(text, style=style)

    def attachment_label(self, label: str) -> None:
        self.paragraph(label, "AttachmentLabel")

    def title(self, text: str) -> None:
        self.paragraph(text, "DocTitle")

    def heading1(self, text: str) -> None:
        self.paragraph(text, "Heading1Cn")

    def heading2(self, text: str) -> None:
        self.paragraph(text, "Heading2Cn")

    def text_block(self, variable: str, style: str = "Normal") -> None:
        """Paragraphs of a long text: the context gives a list, one item per paragraph."""
        self.paragraph("{%p for para in " + variable + " %}", style)
        self.paragraph("{{ para }}", style)
        self.paragraph("{%p endfor %}", style)

    def signature(self, signer: str, date: str) -> None:
        self.paragraph("")
        self.paragraph(signer, "Signature")
        self.paragraph(date, "Signature")

    def page_break(self) -> None:
        self.paragraph("").add_run().add_break(WD_BREAK.PAGE)

    # -- tables -------------------------------------------------------------------------------

    def table(self, rows: int, widths_cm: list[float], *, borders: bool = True) -> Table:
        table = self.doc.add_table(rows=rows, cols=len(widths_cm))
        if borders:
            table.style = self.doc.styles["Table Grid"]
        table.alignment = WD_TABLE_ALIGNMENT.CENTER
        table.autofit = False
        # LibreOffice lays out by the grid (w:gridCol), Word by the cells (w:tcW): set both.
        for column, width in zip(table.columns, widths_cm, strict=True):
            column.width = Cm(width)
        for row in table.rows:
            for width, cell in zip(widths_cm, row.cells, strict=True):
                cell.width = Cm(width)
        return table

    @staticmethod
    def cell(cell: _Cell, text: str, style: str = "TableText", align: str | None = None) -> None:
        p = cell.paragraphs[0]
        p.style = cell.part.document.styles[style]
        p.add_run(text)
        if align == "left":
            p.paragraph_format.alignment = WD_ALIGN_PARAGRAPH.LEFT

    def header_row(self, table: Table, index: int, labels: list[str]) -> None:
        """A table header row, repeated at the top of every page the table spans."""
        row = table.rows[index]
        for cell, label in zip(row.cells, labels, strict=True):
            if label:
                self.cell(cell, label, "TableHead")
        tr_pr = row._tr.get_or_add_trPr()
        tr_pr.append(OxmlElement("w:tblHeader"))

    def loop_rows(
        self,
        table: Table,
        first: int,
        loop: str,
        cells: list[str],
        aligns: list[str | None] | None = None,
    ) -> None:
        """Rows `first`..`first+2`: `{%tr for %}`, the repeated row, `{%tr endfor %}`."""
        self.cell(table.rows[first].cells[0], "{%tr " + loop + " %}")
        for i, (cell, text) in enumerate(zip(table.rows[first + 1].cells, cells, strict=True)):
            self.cell(cell, text, align=(aligns[i] if aligns else None))
        self.cell(table.rows[first + 2].cells[0], "{%tr endfor %}")

    # -- output -------------------------------------------------------------------------------

    def to_bytes(self, title: str) -> bytes:
        props = self.doc.core_properties
        props.title = title
        props.author = props.last_modified_by = "行业产教融合共同体文档服务"
        props.created = props.modified = _EPOCH.replace(tzinfo=None)
        props.revision = 1
        raw = io.BytesIO()
        self.doc.save(raw)
        return _fixed_zip(raw.getvalue())


def _fixed_zip(data: bytes) -> bytes:
    """Rewrite the package with fixed entry times so that a rebuild is byte-identical."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w") as dst:
        for info in src.infolist():
            entry = zipfile.ZipInfo(info.filename, date_time=(2026, 1, 1, 0, 0, 0))
            entry.compress_type = zipfile.ZIP_DEFLATED
            dst.writestr(entry, src.read(info.filename))
    return out.getvalue()
