"""A rendered DOCX seen as "front matter, one long table, the rest", with predicted heights.

`read_list_document` finds the document's longest table and measures what the long-list path
(docgen.longlists) needs to pack its rows into pages: the page's text block, the height of the
paragraphs before the table, of its header rows and of every data row. Heights are predicted
from the document's own styles (docDefaults → style chain → direct formatting) and the fonts'
metrics (docgen.typesetting), in points.

Only the shapes this path is built for are accepted; anything else gives None and the document
is converted in one piece as usual: one section, only paragraphs before the table, header rows
(`w:tblHeader`) first, no merge running across data rows, no nested tables.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable
from typing import Any

import msgspec
from lxml import etree

from docgen.typesetting import Typesetter

__all__ = ["ListDocument", "read_list_document", "w"]

_W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
_TWIP_PT = 1 / 20
_DEFAULT_SIZE_PT = 10.0  # Word's default when no w:sz is given anywhere


def w(tag: str) -> str:
    """Clark notation of a WordprocessingML name: w('tbl') → '{…/main}tbl'."""
    return f"{{{_W}}}{tag}"


_PPR, _PSTYLE, _VAL, _R, _RPR = w("pPr"), w("pStyle"), w("val"), w("r"), w("rPr")
_VMERGE = w("vMerge")
_LAYOUT_TAGS = frozenset(w(t) for t in ("spacing", "ind", "rPr"))


class ListDocument(msgspec.Struct, frozen=True):
    """What packing needs, plus the parsed parts (lxml elements) the part builder copies."""

    body_height_pt: float  # the page's text block
    front_height_pt: float  # paragraphs before the table, on the first page
    header_height_pt: float  # the repeated header rows
    row_heights_pt: list[float]  # every data row, in order
    page_number_start: int  # w:pgNumType w:start of the section (1 unless the template sets it)
    root: Any  # the w:document element
    table_index: int  # position of the long table among the body's children


class _Styles:
    """Paragraph properties as Word resolves them: docDefaults, then the style chain."""

    def __init__(self, styles_xml: bytes | None) -> None:
        self._by_id: dict[str, Any] = {}
        self._defaults: list[Any] = []
        if styles_xml is None:
            return
        root = etree.fromstring(styles_xml)
        defaults = root.find(w("docDefaults"))
        if defaults is not None:
            found = (
                defaults.find(f"{w('rPrDefault')}/{w('rPr')}"),
                defaults.find(f"{w('pPrDefault')}/{w('pPr')}"),
            )
            self._defaults = [e for e in found if e is not None]
        for style in root.iter(w("style")):
            self._by_id[style.get(w("styleId"), "")] = style
        self.default_paragraph = next(
            (
                s.get(w("styleId"), "")
                for s in root.iter(w("style"))
                if s.get(w("type")) == "paragraph" and s.get(w("default")) in ("1", "true")
            ),
            "",
        )

    def style(self, style_id: str) -> Any:
        """The w:style element of `style_id`, or None."""
        return self._by_id.get(style_id)

    def chain(self, style_id: str, tags: tuple[str, ...] = ("rPr", "pPr")) -> list[Any]:
        """The `tags` properties of a style and those it is based on, the most general first
        (for paragraph and run properties, docDefaults before them)."""
        found: list[Any] = []
        seen: set[str] = set()
        current: str | None = style_id or self.default_paragraph
        while current and current not in seen and current in self._by_id:
            seen.add(current)
            style = self._by_id[current]
            found[:0] = [e for e in (style.find(w(t)) for t in tags) if e is not None]
            based = style.find(w("basedOn"))
            current = based.get(w("val")) if based is not None else None
        return found if "tblPr" in tags else self._defaults + found


class _Paragraph(msgspec.Struct):
    size_pt: float = _DEFAULT_SIZE_PT
    east_asian: str = ""
    latin: str = ""
    before_pt: float = 0.0
    after_pt: float = 0.0
    line: float = 240.0
    line_rule: str = "auto"
    indent_pt: float = 0.0  # left + right
    first_line_pt: float = 0.0


def _apply(props: _Paragraph, element: Any) -> None:
    """Fold one pPr or rPr (or a run's rPr) into `props`."""
    for child in element.iter(w("sz"), w("rFonts"), w("spacing"), w("ind")):
        if child.tag == w("sz") and child.getparent().tag == w("rPr"):
            props.size_pt = int(child.get(w("val"), "20")) / 2
        elif child.tag == w("rFonts"):
            props.east_asian = child.get(w("eastAsia"), props.east_asian)
            props.latin = child.get(w("ascii"), props.latin)
        elif child.tag == w("spacing") and child.getparent().tag == w("pPr"):
            props.before_pt = float(child.get(w("before"), props.before_pt / _TWIP_PT)) * _TWIP_PT
            props.after_pt = float(child.get(w("after"), props.after_pt / _TWIP_PT)) * _TWIP_PT
            props.line = float(child.get(w("line"), props.line))
            props.line_rule = child.get(w("lineRule"), props.line_rule)
        elif child.tag == w("ind") and child.getparent().tag == w("pPr"):
            left = float(child.get(w("left"), child.get(w("start"), "0")))
            right = float(child.get(w("right"), child.get(w("end"), "0")))
            props.indent_pt = (left + right) * _TWIP_PT
            props.first_line_pt = float(child.get(w("firstLine"), "0")) * _TWIP_PT


_T, _TAB, _BREAK = w("t"), w("tab"), w("br")
_TEXT_TAGS = (_T, w("br"), w("cr"), _TAB)


def _text(paragraph: Any) -> str:
    if paragraph.find(f".//{_BREAK}") is None and paragraph.find(f".//{_TAB}") is None:
        return "".join(paragraph.itertext(_T))  # the common case, in C
    parts = []
    for node in paragraph.iter(*_TEXT_TAGS):
        if node.tag == _T:
            parts.append(node.text or "")
        elif node.tag == _TAB:
            parts.append(" ")
        else:
            parts.append("\n")
    return "".join(parts)


class _Measure:
    """Heights of paragraphs, from the styles and the fonts."""

    def __init__(self, styles: _Styles, typesetter: Callable[[str, str], Typesetter]) -> None:
        self._styles = styles
        self._typesetter = typesetter
        self._by_style: dict[tuple[str, int], _Paragraph] = {}
        self._memo: dict[tuple[str, int, str, float], float] = {}

    def _resolved(self, style_id: str, base: tuple[Any, ...]) -> _Paragraph:
        key = (style_id, id(base[0]) if base else 0)
        if key not in self._by_style:
            props = _Paragraph()
            for element in (*base, *self._styles.chain(style_id)):
                _apply(props, element)
            self._by_style[key] = props
        return msgspec.structs.replace(self._by_style[key])

    def paragraph_pt(self, paragraph: Any, width_pt: float, base: tuple[Any, ...] = ()) -> float:
        ppr = paragraph.find(_PPR)
        style = ppr.find(_PSTYLE) if ppr is not None else None
        style_id = style.get(_VAL, "") if style is not None else ""
        direct = ppr is not None and any(c.tag in _LAYOUT_TAGS for c in ppr)
        runs = paragraph.findall(f"{_R}/{_RPR}")
        text = _text(paragraph)
        key = (style_id, id(base[0]) if base else 0, text, width_pt)
        if not direct and not runs and key in self._memo:
            return self._memo[key]  # lists repeat their values: most cells are seen before
        props = self._resolved(style_id, base)
        if direct:
            _apply(props, ppr)
        for rpr in runs:
            _apply(props, rpr)  # a run's own size or fonts
        setter = self._typesetter(props.east_asian, props.latin)
        width = width_pt - props.indent_pt - max(props.first_line_pt, 0)
        lines = setter.lines(text, props.size_pt, width)
        natural = setter.line_height_pt(text, props.size_pt)
        if props.line_rule == "exact":
            pitch = props.line * _TWIP_PT
        elif props.line_rule == "atLeast":
            pitch = max(natural, props.line * _TWIP_PT)
        else:
            pitch = natural * props.line / 240
        height = props.before_pt + lines * pitch + props.after_pt
        if not direct and not runs:
            self._memo[key] = height
        return height


def _twips(element: Any, attribute: str, default: float = 0.0) -> float:
    if element is None:
        return default
    value = element.get(w(attribute))
    return float(value) if value is not None else default


def _is_header(row: Any) -> bool:
    trpr = row.find(w("trPr"))
    if trpr is None:
        return False
    header = trpr.find(w("tblHeader"))
    return header is not None and header.get(w("val"), "true") not in ("0", "false")


def read_list_document(
    docx: bytes, typesetter: Callable[[str, str], Typesetter]
) -> ListDocument | None:
    """The long table of `docx` and its predicted geometry, or None when the shape is not one
    this path handles (see the module's docstring).

    `typesetter(east_asian_font, latin_font)` gives the typesetter of a font pair, by the names
    the DOCX uses.
    """
    with zipfile.ZipFile(io.BytesIO(docx)) as package:
        root = etree.fromstring(package.read("word/document.xml"))
        names = set(package.namelist())
        styles = _Styles(package.read("word/styles.xml") if "word/styles.xml" in names else None)
    body = root.find(w("body"))
    children = list(body)
    section = children[-1] if children and children[-1].tag == w("sectPr") else None
    if section is None or body.find(f".//{w('pPr')}/{w('sectPr')}") is not None:
        return None  # several sections: their page setups may differ
    tables = [i for i, child in enumerate(children) if child.tag == w("tbl")]
    if not tables:
        return None
    index = max(tables, key=lambda i: len(children[i].findall(w("tr"))))
    if any(child.tag != w("p") for child in children[:index]):
        return None
    table = children[index]
    rows = table.findall(w("tr"))
    headers = 0
    while headers < len(rows) and _is_header(rows[headers]):
        headers += 1
    data = rows[headers:]
    if not headers or not data or table.find(f".//{w('tbl')}") is not None:
        return None
    if any(merge.get(w("val")) != "restart" for r in data for merge in r.iter(w("vMerge"))):
        return None  # a cell merged with the row above cannot start a page on its own

    size = section.find(w("pgSz"))
    margins = section.find(w("pgMar"))
    body_height = (
        _twips(size, "h") - _twips(margins, "top") - _twips(margins, "bottom")
    ) * _TWIP_PT
    text_width = (_twips(size, "w") - _twips(margins, "left") - _twips(margins, "right")) * _TWIP_PT
    numbering = section.find(w("pgNumType"))
    start = int(numbering.get(w("start"), "1")) if numbering is not None else 1

    measure = _Measure(styles, typesetter)
    front = sum(measure.paragraph_pt(p, text_width) for p in children[:index])
    row_height = _RowHeights(table, styles, measure)
    return ListDocument(
        body_height_pt=body_height,
        front_height_pt=front,
        header_height_pt=sum(row_height(r) for r in rows[:headers]),
        row_heights_pt=[row_height(r) for r in data],
        page_number_start=start,
        root=root,
        table_index=index,
    )


class _RowHeights:
    """A row is as tall as its tallest cell (or its w:trHeight), plus the border between rows."""

    def __init__(self, table: Any, styles: _Styles, measure: _Measure) -> None:
        self._measure = measure
        self._grid = [_twips(col, "w") * _TWIP_PT for col in table.iter(w("gridCol"))]
        tblpr = table.find(w("tblPr"))
        style_id = ""
        if tblpr is not None and tblpr.find(w("tblStyle")) is not None:
            style_id = tblpr.find(w("tblStyle")).get(w("val"), "")
        # The table style's chain, then the table's own properties: cell margins and borders.
        sources = styles.chain(style_id, ("tblPr",)) if style_id else []
        if tblpr is not None:
            sources.append(tblpr)
        # Paragraphs in the table start from the table style's paragraph properties.
        style = styles.style(style_id)
        self._base: tuple[Any, ...] = ()
        if style is not None and style.find(w("pPr")) is not None:
            self._base = (style.find(w("pPr")),)
        self._margin_lr = 108 * 2 * _TWIP_PT  # Word's default cell margins, 0.19 cm a side
        self._margin_tb = 0.0
        self._border = 0.0
        for source in sources:
            margins = source.find(w("tblCellMar"))
            if margins is not None:
                sides = {c.tag: _twips(c, "w") * _TWIP_PT for c in margins}
                self._margin_lr = sides.get(w("left"), sides.get(w("start"), 5.4)) + sides.get(
                    w("right"), sides.get(w("end"), 5.4)
                )
                self._margin_tb = sides.get(w("top"), 0.0) + sides.get(w("bottom"), 0.0)
            borders = source.find(w("tblBorders"))
            if borders is not None:
                inside = borders.find(w("insideH"))
                if inside is not None and inside.get(w("val")) not in ("nil", "none"):
                    self._border = int(inside.get(w("sz"), "4")) / 8  # eighths of a point

    def __call__(self, row: Any) -> float:
        column, tallest = 0, 0.0
        for cell in row.findall(w("tc")):
            tcpr = cell.find(w("tcPr"))
            span = (
                int(tcpr.find(w("gridSpan")).get(w("val"), "1"))
                if tcpr is not None and tcpr.find(w("gridSpan")) is not None
                else 1
            )
            width = sum(self._grid[column : column + span]) - self._margin_lr
            column += span
            merge = tcpr.find(_VMERGE) if tcpr is not None else None
            if merge is not None and merge.get(_VAL) != "restart":
                continue  # the cell above holds the content of a vertical merge
            content = sum(
                self._measure.paragraph_pt(p, width, self._base) for p in cell.findall(w("p"))
            )
            tallest = max(tallest, content + self._margin_tb)
        trpr = row.find(w("trPr"))
        height = trpr.find(w("trHeight")) if trpr is not None else None
        if height is not None:
            fixed = _twips(height, "val") * _TWIP_PT
            rule = height.get(w("hRule"), "atLeast")
            tallest = fixed if rule == "exact" else max(tallest, fixed)
        return tallest + self._border
