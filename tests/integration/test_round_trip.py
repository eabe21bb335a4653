"""Real LibreOffice: markup-like and rare characters reach the PDF exactly as they were sent.

`<` and `&` would break the document's XML without autoescape, `{{ }}` and `{% %}` would be
read as template code if data were rendered twice, 𠮷 (CJK Extension B) and 䶮 (Extension A)
need fonts beyond Noto CJK — each must come out unchanged, and validation must agree that the
fonts can show them (no warning).
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from doc_templates import TEMPLATES_DIR
from docgen.glyphs import FontCoverage
from docgen.pipeline import render_attachment
from docgen.settings import load_settings
from docgen.templates import load_catalogue
from docgen.validation import check_job_request
from tests.pdftext import missing_values

pytestmark = pytest.mark.integration

NAME = "𠮷䶮 R&D <轨道> 共同体"
TEXT = (
    "研发投入 R&D 占比 <30%>，“重点”与 \"key\" 'core'；{{ community.name }} {% if x %}是{% endif %}"
)
PERSON = "李䶮"
ENTERPRISE = "𠮷野家轨道装备有限公司"


def test_markup_and_rare_characters_reach_the_pdf_unchanged(
    unoserver: Any, sample_dict: dict[str, Any]
) -> None:
    sample_dict["community"]["name"] = NAME
    sample_dict["community"]["head"]["name"] = PERSON
    sample_dict["community"]["lead_enterprise"]["name"] = ENTERPRISE
    sample_dict["industry_analysis"]["overview"] = TEXT
    sample_dict["application"]["overall_approach"] = TEXT
    glyphs = FontCoverage(load_settings({}).converter.fontconfig_file)
    verdict = check_job_request(json.dumps(sample_dict, ensure_ascii=False).encode(), glyphs)
    assert (verdict.errors, verdict.warnings) == ([], [])
    assert verdict.request is not None

    catalogue = load_catalogue(TEMPLATES_DIR)
    expected = {
        "industry_analysis": [NAME, TEXT, ENTERPRISE],
        "application": [NAME, TEXT, ENTERPRISE, PERSON],
    }
    for attachment, values in expected.items():
        doc = render_attachment(
            verdict.request,
            attachment,  # type: ignore[arg-type]
            catalogue,
            unoserver.converter,
        )
        assert missing_values(doc.pdf, values) == [], attachment
