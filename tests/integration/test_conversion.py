"""Real LibreOffice: every attachment of the sample becomes a PDF that shows every value."""

from __future__ import annotations

import io
from typing import Any

import pytest
from docx import Document
from docx.shared import Cm
from PIL import Image

from doc_templates import TEMPLATES_DIR
from docgen.errors import DocgenError
from docgen.pipeline import render_attachment
from docgen.schema import ATTACHMENT_IDS, JobRequest
from docgen.templates import load_catalogue
from tests.pdftext import missing_values, pdf_images
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


def _photo_docx() -> bytes:
    """A .docx with a noisy, photo-like picture: one LibreOffice would export as JPEG by default."""
    size = (600, 400)
    channels = (
        Image.radial_gradient("L").resize(size),
        Image.linear_gradient("L").resize(size),
        Image.effect_noise(size, 40),
    )
    picture = io.BytesIO()
    Image.merge("RGB", channels).save(picture, "png")
    doc = Document()
    doc.add_picture(io.BytesIO(picture.getvalue()), width=Cm(12))
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()


def test_pictures_are_exported_losslessly(unoserver: Any) -> None:
    pdf = unoserver.converter.to_pdf(_photo_docx())
    # Columns: page num type width height color comp bpc enc …; enc is "image" for Flate.
    assert [(row.split()[3], row.split()[8]) for row in pdf_images(pdf)] == [("600", "image")]
