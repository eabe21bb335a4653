"""One PDF from the PDFs of a document's parts, as if LibreOffice had written it in one piece.

The first part's PDF is the base: its catalog (XMP metadata with the PDF/A identification, output
intent, language, viewer preferences), document information (title, author, producer "LibreOffice
7.4") and file identifier stay as they are; the other parts contribute their pages, each with the
fonts LibreOffice embedded for it (subsets: a face appears once per part).
"""

from __future__ import annotations

import io

from pypdf import PdfReader, PdfWriter

__all__ = ["merge_pdfs"]


def merge_pdfs(pdfs: list[bytes]) -> bytes:
    """The pages of `pdfs` in order, in one file carrying the first one's document properties."""
    if len(pdfs) == 1:
        return pdfs[0]
    first = PdfReader(io.BytesIO(pdfs[0]))
    writer = PdfWriter(clone_from=first)
    for pdf in pdfs[1:]:
        for page in PdfReader(io.BytesIO(pdf)).pages:
            writer.add_page(page)
    if first.metadata is not None:
        # pypdf names itself the producer unless told; the manifest reads LibreOffice's name here.
        writer.add_metadata({key: str(value) for key, value in first.metadata.items()})
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()
