"""Rendering keeps nothing behind: a worker renders thousands of documents in one process.

docs/BENCHMARKS.md §6: over 1,000+ renders on long-lived threads the Python heap (objects and
traced allocations) stays flat; what the worker's resident memory gains is freed memory that
malloc keeps. A cache keyed by content, a figure never closed or a tree held would show here as
growth proportional to the renders: the sample's five outputs take ≈330 KB, so keeping each
output passes the byte bound within the rounds, and a figure or tree kept passes the object one.
"""

from __future__ import annotations

import gc
import io
import tracemalloc
from concurrent.futures import ThreadPoolExecutor

from pypdf import PdfWriter

from docgen.context import build_context, document_properties
from docgen.pdfinfo import pdf_facts
from docgen.render import render_docx
from docgen.schema import AttachmentId, JobRequest
from docgen.settings import load_settings
from docgen.spreadsheet import supply_demand_xlsx
from docgen.templates import load_catalogue

ROUNDS = 2  # of the five attachments, after one round that fills the caches
GROWTH_BOUND = 512 * 1024  # bytes still allocated after ROUNDS rounds, since the warm-up


def test_rendering_documents_over_and_over_keeps_no_memory_behind(
    sample_request: JobRequest,
) -> None:
    catalogue = load_catalogue(load_settings({}).templates_dir)
    attachments = sample_request.requested_attachments()

    def render(attachment: AttachmentId) -> None:
        template = catalogue[attachment]
        context = build_context(sample_request, attachment)
        properties = document_properties(sample_request, attachment, template.title)
        docx = render_docx(template.read(), context, template.file, properties)
        assert docx.startswith(b"PK")
        if attachment == "supply_demand" and sample_request.supply_demand is not None:
            supply_demand_xlsx(
                sample_request.supply_demand, sample_request.community.name, sample_request.year
            )

    # Two long-lived threads, as the worker's: matplotlib caches fonts per thread.
    with ThreadPoolExecutor(2) as threads:
        list(threads.map(render, attachments))
        gc.collect()
        objects = len(gc.get_objects())
        tracemalloc.start()
        try:
            before = tracemalloc.get_traced_memory()[0]
            for _ in range(ROUNDS):
                list(threads.map(render, attachments))
            gc.collect()
            grown = tracemalloc.get_traced_memory()[0] - before
        finally:
            tracemalloc.stop()
        assert grown < GROWTH_BOUND, f"{grown / 1024:.0f} KB kept by {ROUNDS} rounds of renders"
        assert len(gc.get_objects()) - objects < 200


def test_reading_a_pdfs_facts_keeps_no_memory_behind() -> None:
    writer = PdfWriter()
    for _ in range(5):
        writer.add_blank_page(595, 842)
    out = io.BytesIO()
    writer.write(out)
    pdf = out.getvalue()
    pdf_facts(pdf)
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        for _ in range(50):
            assert pdf_facts(pdf).pages == 5
        gc.collect()
        grown = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    assert grown < 64 * 1024
