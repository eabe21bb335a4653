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
from docx.enum.table import WD_CELL_VERTICAL_ALIGNMENT, WD_ROW_HEIGHT_RULE, WD_TABLE_ALIGNMENT
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
        # GB/T 9704 §7.5: the page number sits 7 mm below the text block.
        section.footer_distance = section.bottom_margin - Cm(0.7) - Pt(14)
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
        para_style("TitleNote", KAITI, 16)
        subtitle = styles["TitleNote"].paragraph_format
        subtitle.alignment = WD_ALIGN_PARAGRAPH.CENTER
        subtitle.first_line_indent = Pt(0)
        para_style("Heading1Cn", HEITI, 16)
        para_style("Heading2Cn", KAITI, 16)
        for heading in ("Heading1Cn", "Heading2Cn"):
            # A heading never ends a page alone.
            styles[heading].paragraph_format.keep_with_next = True
        para_style("Signature", FANGSONG, 16)
        sig = styles["Signature"].paragraph_format
        sig.alignment = WD_ALIGN_PARAGRAPH.RIGHT
        sig.first_line_indent = Pt(0)
        sig.right_indent = Pt(64)  # GB/T 9704 §7.3.5: the date stands four characters in
        sig.keep_with_next = True
        para_style("Figure", FANGSONG, 16)
        figure = styles["Figure"].paragraph_format
        figure.alignment = WD_ALIGN_PARAGRAPH.CENTER
        figure.first_line_indent = Pt(0)
        # An exact line height would clip the picture to one line.
        figure.line_spacing_rule = WD_LINE_SPACING.SINGLE
        para_style("FigureCaption", HEITI, 12)
        caption = styles["FigureCaption"].paragraph_format
        caption.alignment = WD_ALIGN_PARAGRAPH.CENTER
        caption.first_line_indent = Pt(0)
        caption.space_after = Pt(6)
        para_style("PageNumber", SONGTI, 14)
        number = styles["PageNumber"].paragraph_format
        number.first_line_indent = Pt(0)
        number.line_spacing_rule = WD_LINE_SPACING.SINGLE
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
        para_style("BoxText", FANGSONG, 14)
        box = styles["BoxText"].paragraph_format
        box.first_line_indent = Pt(28)
        box.line_spacing = Pt(26)
        para_style("CoverLine", FANGSONG, 16)
        styles["CoverLine"].paragraph_format.first_line_indent = Pt(0)
        styles["CoverLine"].paragraph_format.line_spacing_rule = WD_LINE_SPACING.SINGLE
        para_style("CoverTitle", XIAOBIAOSONG, 26)
        cover = styles["CoverTitle"].paragraph_format
        cover.alignment = WD_ALIGN_PARAGRAPH.CENTER
        cover.first_line_indent = Pt(0)
        cover.line_spacing = Pt(40)

    # -- page numbers -------------------------------------------------------------------------

    def page_numbers(self, *, cover: bool = False) -> None:
        """GB/T 9704 §7.5: "— 1 —" in 4号宋体, odd pages on the right, even pages on the left,
        each one character in from the edge of the text. A cover page carries no number."""
        self.doc.settings.odd_and_even_pages_header_footer = True
        section = self.doc.sections[0]
        section.different_first_page_header_footer = cover
        for footer, alignment in (
            (section.footer, WD_ALIGN_PARAGRAPH.RIGHT),
            (section.even_page_footer, WD_ALIGN_PARAGRAPH.LEFT),
        ):
            p = footer.paragraphs[0]
            p.style = self.doc.styles["PageNumber"]
            p.paragraph_format.alignment = alignment
            if alignment == WD_ALIGN_PARAGRAPH.RIGHT:
                p.paragraph_format.right_indent = Pt(14)
            else:
                p.paragraph_format.left_indent = Pt(14)
            p.add_run("— ")
            _page_field(p)
            p.add_run(" —")

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

    def text_block(
        self, variable: str, style: str = "Normal", *, before_signature: bool = False
    ) -> None:
        """Paragraphs of a long text: the context gives a list, one item per paragraph.

        `before_signature`: the last paragraph keeps with the signature that follows, so that the
        signature never stands alone on a page (GB/T 9704 §7.3.5 asks for the same).
        """
        if not before_signature:
            self.paragraph("{%p for para in " + variable + " %}", style)
            self.paragraph("{{ para }}", style)
            self.paragraph("{%p endfor %}", style)
            return
        self.paragraph("{%p for para in " + variable + "[:-1] %}", style)
        self.paragraph("{{ para }}", style)
        self.paragraph("{%p endfor %}", style)
        last = self.paragraph("{{ " + variable + "[-1] }}", style)
        last.paragraph_format.keep_with_next = True

    def signature(self, signer: str, date: str) -> None:
        """The signer and date, right-aligned, with room above for the seal; never split."""
        for _ in range(2):
            self.paragraph("", "Signature")
        self.paragraph(signer, "Signature")
        last = self.paragraph(date, "Signature")
        last.paragraph_format.keep_with_next = False

    def page_break(self) -> None:
        self.paragraph("").add_run().add_break(WD_BREAK.PAGE)

    # -- tables -------------------------------------------------------------------------------

    def table(
        self,
        rows: int,
        widths_cm: list[float],
        *,
        borders: bool = True,
        min_row_cm: float | None = None,
    ) -> Table:
        """A table whose rows never break across pages, its cells centred vertically."""
        table = self.doc.add_table(rows=rows, cols=len(widths_cm))
        if borders:
            table.style = self.doc.styles["Table Grid"]
        table.alignment = WD_TABLE_ALIGNMENT.CENTER
        table.autofit = False
        # LibreOffice lays out by the grid (w:gridCol), Word by the cells (w:tcW): set both.
        for column, width in zip(table.columns, widths_cm, strict=True):
            column.width = Cm(width)
        for row in table.rows:
            row._tr.get_or_add_trPr().append(OxmlElement("w:cantSplit"))
            if min_row_cm:
                row.height = Cm(min_row_cm)
                row.height_rule = WD_ROW_HEIGHT_RULE.AT_LEAST
            for width, cell in zip(widths_cm, row.cells, strict=True):
                cell.width = Cm(width)
                cell.vertical_alignment = WD_CELL_VERTICAL_ALIGNMENT.CENTER
        return table

    @staticmethod
    def underline(cell: _Cell) -> None:
        """A bottom border only: the line a value is written on, as on a printed cover."""
        borders = OxmlElement("w:tcBorders")
        bottom = OxmlElement("w:bottom")
        for attr, value in (
            ("w:val", "single"),
            ("w:sz", "6"),
            ("w:space", "0"),
            ("w:color", "000000"),
        ):
            bottom.set(qn(attr), value)
        borders.append(bottom)
        tc_pr = cell._tc.get_or_add_tcPr()
        # The schema orders tcPr's children (Word refuses a file that does not): borders go
        # before shading, margins and vertical alignment.
        successor = next(
            (
                child
                for child in tc_pr
                if child.tag
                in {qn(f"w:{n}") for n in ("shd", "noWrap", "tcMar", "textDirection", "vAlign")}
            ),
            None,
        )
        if successor is None:
            tc_pr.append(borders)
        else:
            successor.addprevious(borders)

    @staticmethod
    def vertical_merge(cell: _Cell, *, restart: bool) -> None:
        """Mark a cell as the start (or a continuation) of a vertical merge.

        For merges over rows that a `{%tr for %}` loop repeats: every copy of a continuing
        cell joins the merge started above it.
        """
        # python-docx places the element where the schema wants it.
        cell._tc.get_or_add_tcPr().vMerge_val = "restart" if restart else "continue"

    @staticmethod
    def cell(cell: _Cell, text: str, style: str = "TableText", align: str | None = None) -> None:
        p = cell.paragraphs[0]
        p.style = cell.part.document.styles[style]
        p.add_run(text)
        if align is not None:
            p.paragraph_format.alignment = _ALIGNMENTS[align]

    @staticmethod
    def keep_together(table: Table) -> None:
        """A short table stays on one page: each row keeps with the next (Word's own way)."""
        for row in table.rows[:-1]:
            for cell in row.cells:
                for p in cell.paragraphs:
                    p.paragraph_format.keep_with_next = True

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


_ALIGNMENTS = {
    "left": WD_ALIGN_PARAGRAPH.LEFT,
    "right": WD_ALIGN_PARAGRAPH.RIGHT,
    # Spread over the cell: labels of different lengths line up on both edges (cover page).
    "distribute": WD_ALIGN_PARAGRAPH.DISTRIBUTE,
}


def _page_field(paragraph: Paragraph) -> None:
    """A PAGE field: Word and LibreOffice both fill in the number when they lay the page out."""
    run = paragraph.add_run()
    for kind in ("begin", "instr", "separate", "number", "end"):
        if kind == "instr":
            instr = OxmlElement("w:instrText")
            instr.set(qn("xml:space"), "preserve")
            instr.text = " PAGE "
            run._r.append(instr)
        elif kind == "number":
            text = OxmlElement("w:t")
            text.text = "1"
            run._r.append(text)
        else:
            char = OxmlElement("w:fldChar")
            char.set(qn("w:fldCharType"), kind)
            run._r.append(char)


def _fixed_zip(data: bytes) -> bytes:
    """Rewrite the package with fixed entry times so that a rebuild is byte-identical."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w") as dst:
        for info in src.infolist():
            entry = zipfile.ZipInfo(info.filename, date_time=(2026, 1, 1, 0, 0, 0))
            entry.compress_type = zipfile.ZIP_DEFLATED
            dst.writestr(entry, src.read(info.filename))
    return out.getvalue()
