"""Real LibreOffice: every attachment of the sample becomes a PDF that shows every value."""

from __future__ import annotations

from typing import Any

import pytest

from doc_templates import TEMPLATES_DIR
from docgen.errors import DocgenError
from docgen.pipeline import render_attachment
from docgen.schema import ATTACHMENT_IDS, JobRequest
from docgen.templates import load_catalogue
from tests.pdftext import missing_values
from tests.values import expected_values

pytestmark = pytest.mark.integration


@pytest.mark.parametrize("attachment", ATTACHMENT_IDS)
def test_every_value_of_the_sample_reaches_the_pdf(
    attachment: str, unoserver: Any, sample_request: JobRequest, sample_dict: dict[str, Any]
) -> None:
    doc = render_attachment(
        sample_request,
        attachment,  # type: ignore[arg-type]
        load_catalogue(TEMPLATES_DIR),
        unoserver.converter,
    )
    assert doc.pdf.startswith(b"%PDF") and doc.pages >= 1
    assert missing_values(doc.pdf, expected_values(sample_dict, attachment)) == []


def test_a_file_that_is_not_a_document_fails_with_a_reason(unoserver: Any) -> None:
    with pytest.raises(DocgenError) as failed:
        unoserver.converter.to_pdf(b"PK\x03\x04 this is not a docx")
    assert failed.value.code.startswith("conversion.")
    # The converter is still fine afterwards.
    assert unoserver.converter.to_pdf((TEMPLATES_DIR.parent / "docgen" / "probe.docx").read_bytes())
