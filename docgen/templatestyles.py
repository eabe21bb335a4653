"""A template's style sheet cut down to the styles its document uses.

Our templates, written by doc_templates.docxkit over python-docx's default document, carry a
style sheet of 178 styles (355 KB, 100 of them table styles) of which a document uses about 18.
LibreOffice imports every one of them at each conversion: with the used styles only, the same
LibreOffice converted a four-page list 20–22 % faster (158 → 126 ms in one A/B) and Carbone
rendered it 34–54 % faster (docs/BENCHMARKS.md §5), to the same PDF. docxtpl also parses and
writes the whole sheet at every render: a 50-row list rendered in 10 ms instead of 19.

Kept: every style a part of the package names (paragraphs, runs, tables, numbering), the
default style of each type, and the styles those are based on, followed by or linked to. The
latent styles stay, so that Word still offers its built-in styles (it creates one when it is
applied). Field results do not change: a TOC or STYLEREF finds paragraphs by their styles, and
every style a paragraph has is kept.
"""

from __future__ import annotations

import functools
import io
import zipfile
from typing import Any

from lxml import etree

from docgen.listlayout import w

__all__ = ["without_unused_styles"]

_STYLE, _STYLE_ID, _VAL, _DEFAULT = w("style"), w("styleId"), w("val"), w("default")
# Where a part names a style by its id.
_REFERENCES = frozenset(w(t) for t in ("pStyle", "rStyle", "tblStyle", "numStyleLink", "styleLink"))
# How one style names another.
_CHAINS = tuple(w(tag) for tag in ("basedOn", "next", "link"))
# Word 2010 reads the second; both hold the same styles.
_SHEETS = ("word/styles.xml", "word/stylesWithEffects.xml")
# Our own files, but a template is still not trusted to name entities or other files.
_PARSER = etree.XMLParser(resolve_entities=False, no_network=True)


@functools.lru_cache(maxsize=16)
def without_unused_styles(docx: bytes) -> bytes:
    """`docx` with its style sheets holding only the styles in use; `docx` itself when there is
    nothing to remove or the package cannot be read (the renderer then reports what is wrong).

    Cached: the renderer passes the same template bytes at every render of one attachment.
    """
    try:
        with zipfile.ZipFile(io.BytesIO(docx)) as package:
            entries = [(info, package.read(info)) for info in package.infolist()]
        sheets = {
            info.filename: etree.fromstring(data, _PARSER)
            for info, data in entries
            if info.filename in _SHEETS
        }
        if "word/styles.xml" not in sheets:
            return docx
        used: set[str] = set()
        for info, data in entries:
            if info.filename.endswith(".xml") and info.filename not in _SHEETS:
                used |= _named_styles(data)
    except (zipfile.BadZipFile, etree.XMLSyntaxError, ValueError):
        return docx
    removed = False
    for sheet in sheets.values():
        removed |= _prune(sheet, used)
    if not removed:
        return docx
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as package:
        for info, data in entries:
            if info.filename in sheets:
                data = etree.tostring(
                    sheets[info.filename], xml_declaration=True, encoding="UTF-8", standalone=True
                )
            package.writestr(info, data)
    return out.getvalue()


def _named_styles(xml: bytes) -> set[str]:
    if b"Style" not in xml and b"styleLink" not in xml:  # a quick pass over parts with none
        return set()
    root = etree.fromstring(xml, _PARSER)
    return {element.get(_VAL) for element in root.iter(*_REFERENCES) if element.get(_VAL)}


def _prune(sheet: Any, used: set[str]) -> bool:
    """Remove the styles of `sheet` nothing needs; True when one was removed."""
    styles = {style.get(_STYLE_ID, ""): style for style in sheet.iter(_STYLE)}
    wanted = {
        style_id
        for style_id, style in styles.items()
        if style_id in used or style.get(_DEFAULT) in ("1", "true", "on")
    }
    pending = list(wanted)
    while pending:
        style = styles.get(pending.pop())
        if style is None:
            continue
        for chain in _CHAINS:
            target = style.find(chain)
            name = target.get(_VAL) if target is not None else None
            if name and name not in wanted:
                wanted.add(name)
                pending.append(name)
    unused = [style for style_id, style in styles.items() if style_id not in wanted]
    for style in unused:
        parent = style.getparent()
        if parent is not None:
            parent.remove(style)
    return bool(unused)
