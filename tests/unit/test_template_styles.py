"""A template's style sheet keeps the styles in use and nothing else (docgen/templatestyles.py)."""

from __future__ import annotations

import io
import re
import zipfile

import pytest

from doc_templates import TEMPLATES_DIR
from docgen.context import build_context
from docgen.render import render_docx
from docgen.schema import ATTACHMENT_IDS, JobRequest
from docgen.templates import load_catalogue
from docgen.templatestyles import without_unused_styles

_W = 'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"'


def _style(style_id: str, kind: str = "paragraph", inner: str = "", default: bool = False) -> str:
    flag = ' w:default="1"' if default else ""
    return f'<w:style w:type="{kind}"{flag} w:styleId="{style_id}">{inner}</w:style>'


def _package(parts: dict[str, str]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as package:
        for name, text in parts.items():
            package.writestr(name, text)
    return out.getvalue()


def _parts(docx: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(docx)) as package:
        return {name: package.read(name) for name in package.namelist()}


def _style_ids(xml: bytes) -> set[str]:
    return {s.decode() for s in re.findall(rb'<w:style [^>]*w:styleId="([^"]+)"', xml)}


def _referenced(parts: dict[str, bytes]) -> set[str]:
    found: set[str] = set()
    for name, data in parts.items():
        if name.endswith(".xml") and "styles" not in name.lower():
            pattern = rb'<w:(?:pStyle|rStyle|tblStyle|numStyleLink|styleLink) w:val="([^"]+)"'
            found |= {s.decode() for s in re.findall(pattern, data)}
    return found


SHEET = (
    f"<w:styles {_W}>"
    '<w:docDefaults><w:rPrDefault><w:rPr><w:sz w:val="21"/></w:rPr></w:rPrDefault></w:docDefaults>'
    '<w:latentStyles w:count="1"><w:lsdException w:name="Light Shading"/></w:latentStyles>'
    + _style("Normal", default=True)
    + _style(
        "Body", inner='<w:basedOn w:val="Base"/><w:next w:val="After"/><w:link w:val="BodyChar"/>'
    )
    + _style("Base", inner='<w:basedOn w:val="Normal"/>')
    + _style("After")
    + _style("BodyChar", "character")
    + _style("FooterText")
    + _style("ListStyle", "numbering")
    + _style("Grid", "table")
    + _style("LightShading", "table")
    + _style("Unused")
    + _style("UnusedChar", "character", '<w:basedOn w:val="Body"/>')
    + "</w:styles>"
)


def _template() -> bytes:
    return _package(
        {
            "[Content_Types].xml": "<Types/>",
            "word/document.xml": f'<w:document {_W}><w:body><w:tbl><w:tblPr><w:tblStyle w:val="Grid"/>'
            '</w:tblPr></w:tbl><w:p><w:pPr><w:pStyle w:val="Body"/></w:pPr><w:r><w:t>{{ x }}'
            "</w:t></w:r></w:p></w:body></w:document>",
            "word/footer1.xml": f'<w:ftr {_W}><w:p><w:pPr><w:pStyle w:val="FooterText"/></w:pPr></w:p></w:ftr>',
            "word/numbering.xml": f'<w:numbering {_W}><w:abstractNum w:abstractNumId="0">'
            '<w:numStyleLink w:val="ListStyle"/></w:abstractNum></w:numbering>',
            "word/styles.xml": SHEET,
            "word/stylesWithEffects.xml": SHEET,
        }
    )


def test_used_styles_their_chains_and_defaults_are_kept_and_nothing_else() -> None:
    before = _template()
    after = _parts(without_unused_styles(before))
    kept = {"Normal", "Body", "Base", "After", "BodyChar", "FooterText", "ListStyle", "Grid"}
    for sheet in ("word/styles.xml", "word/stylesWithEffects.xml"):
        assert _style_ids(after[sheet]) == kept
        assert b"<w:docDefaults>" in after[sheet]
        assert b'w:lsdException w:name="Light Shading"' in after[sheet]  # Word still offers it
    # Every other part is carried over byte for byte.
    for name, data in _parts(before).items():
        if "styles" not in name.lower():
            assert after[name] == data


def test_a_package_it_cannot_improve_is_returned_as_it_came() -> None:
    no_sheet = _package({"word/document.xml": f"<w:document {_W}/>"})
    assert without_unused_styles(no_sheet) is no_sheet
    not_a_zip = b"PK\x03\x04 this is not a package"
    assert without_unused_styles(not_a_zip) is not_a_zip
    broken = _package({"word/styles.xml": "<w:styles", "word/document.xml": "<x/>"})
    assert without_unused_styles(broken) is broken
    all_used = without_unused_styles(_template())  # a second pass finds nothing to remove
    assert without_unused_styles(all_used) is all_used


@pytest.mark.parametrize("attachment", ATTACHMENT_IDS)
def test_a_rendered_attachment_has_every_style_it_names_and_no_unused_ones(
    attachment: str, sample_request: JobRequest
) -> None:
    template = load_catalogue(TEMPLATES_DIR)[attachment]  # type: ignore[index]
    before = _parts(template.read())
    context = build_context(sample_request, attachment)  # type: ignore[arg-type]
    after = _parts(render_docx(template.read(), context, template.file))
    defined = _style_ids(after["word/styles.xml"])
    assert _referenced(after) <= defined, "a style the document names was removed"
    assert len(defined) < len(_style_ids(before["word/styles.xml"])) / 3
    # The sheets the committed templates carry list a hundred table styles; one is used.
    assert "LightShading" in _style_ids(before["word/styles.xml"])
    assert "LightShading" not in defined
