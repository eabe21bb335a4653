"""The work of one document, as plain functions: render → convert → store → record.

Actors and the embedded `docgen render` call these; they hold no framework code.
"""

from __future__ import annotations

import hashlib
import logging
from importlib import metadata

import msgspec

from docgen.batches import BatchStore
from docgen.context import Context, build_context, document_properties
from docgen.convert import Converter
from docgen.errors import DocgenError
from docgen.jobs import DocumentRecord, ErrorInfo, JobRecord, JobStore, utcnow
from docgen.longlists import convert_document
from docgen.objectstore import ObjectStore
from docgen.pdfinfo import PdfFacts, pdf_facts
from docgen.render import render_docx
from docgen.schema import AttachmentId, JobRequest
from docgen.spreadsheet import supply_demand_xlsx
from docgen.storage import (
    VersionCounter,
    document_identity,
    document_prefix,
    find_version,
    store_version,
)
from docgen.templates import TemplateCatalogue

__all__ = ["Rendered", "Workshop", "produce_document", "render_attachment"]

log = logging.getLogger("docgen.pipeline")


class Rendered(msgspec.Struct, frozen=True):
    attachment: AttachmentId
    stem: str
    docx: bytes
    pdf: bytes
    facts: PdfFacts
    xlsx: bytes | None = None  # 附件3's lists as a spreadsheet

    @property
    def pages(self) -> int:
        return self.facts.pages


class Workshop(msgspec.Struct, frozen=True):
    """Everything a worker needs to produce documents (one per worker process)."""

    jobs: JobStore
    store: ObjectStore
    converter: Converter
    catalogue: TemplateCatalogue
    counter: VersionCounter
    batches: BatchStore | None = None  # to see a batch's cancellation


def _longest_list(request: JobRequest, attachment: AttachmentId) -> int:
    """Rows of the attachment's longest list (附件3's four lists; the others have none long)."""
    if attachment != "supply_demand" or request.supply_demand is None:
        return 0
    lists = request.supply_demand
    return max(
        len(lists.talent_demand),
        len(lists.talent_supply),
        len(lists.technology_demand),
        len(lists.technology_supply),
    )


def _render(
    request: JobRequest,
    attachment: AttachmentId,
    context: Context,
    catalogue: TemplateCatalogue,
    converter: Converter,
) -> Rendered:
    template = catalogue[attachment]
    properties = document_properties(request, attachment, template.title)
    docx = render_docx(template.read(), context, template.file, properties)
    pdf = convert_document(
        docx, converter, pdf_a=request.pdf_a, rows=_longest_list(request, attachment)
    )
    facts = pdf_facts(pdf)
    if request.pdf_a and facts.pdfa_part != 2:
        raise DocgenError(
            "conversion.pdf_a",
            "转换结果不是 PDF/A-2b",
            "The converter did not produce PDF/A-2b",
            detail=f"pdfaid:part={facts.pdfa_part}",
        )
    xlsx = None
    if attachment == "supply_demand" and request.supply_demand is not None:
        xlsx = supply_demand_xlsx(
            request.supply_demand, request.community.name, request.year, created=utcnow()
        )
    return Rendered(attachment, template.stem, docx, pdf, facts, xlsx)


def render_attachment(
    request: JobRequest,
    attachment: AttachmentId,
    catalogue: TemplateCatalogue,
    converter: Converter,
) -> Rendered:
    """Render and convert one attachment in memory (the embedded path: nothing stored)."""
    return _render(request, attachment, build_context(request, attachment), catalogue, converter)


def produce_document(
    workshop: Workshop, job_id: str, attachment: AttachmentId, *, final_attempt: bool = True
) -> DocumentRecord | None:
    """Produce one document of a job and record the outcome on the job.

    Idempotent: a retry of a message whose document was already stored reports that version.
    A retryable failure is re-raised unless `final_attempt`; other failures mark the document
    `failed` with a readable reason, and the job's other documents go on.
    """
    found = workshop.jobs.get(job_id)
    if found is None:
        log.warning("job.unknown job_id=%s attachment=%s", job_id, attachment)
        return None
    job, documents = found
    current = next(d for d in documents if d.attachment == attachment)
    if current.status in ("succeeded", "failed"):
        return current  # a redelivered message: the work is done
    if job.batch_id and workshop.batches and workshop.batches.cancelled(job.batch_id):
        cancelled = ErrorInfo("batch.cancelled", "批量任务已取消", "The batch was cancelled")
        return _record_failure(workshop, job_id, current, cancelled)
    started = msgspec.structs.replace(
        current, status="running", started_at=utcnow(), attempts=current.attempts + 1
    )
    workshop.jobs.put_document(job_id, started)
    try:
        body = workshop.store.get(job.input_key)
        if body is None:
            raise DocgenError(
                "input.missing",
                "找不到该任务的输入数据",
                "The job's input is missing",
                detail=job.input_key,
            )
        request = msgspec.json.decode(body, type=JobRequest)
        done = _render_and_store(
            workshop,
            job,
            request,
            attachment,
            hashlib.sha256(body).hexdigest(),
        )
    except DocgenError as exc:
        if exc.retryable and not final_attempt:
            log.warning(
                "document.retry job_id=%s attachment=%s code=%s detail=%s",
                job_id,
                attachment,
                exc.code,
                exc.detail,
            )
            raise
        log.error(
            "document.failed job_id=%s attachment=%s code=%s detail=%s",
            job_id,
            attachment,
            exc.code,
            exc.detail,
        )
        return _record_failure(
            workshop, job_id, started, ErrorInfo(exc.code, exc.message, exc.message_en)
        )
    except Exception:
        if not final_attempt:
            raise
        log.exception("document.crashed job_id=%s attachment=%s", job_id, attachment)
        return _record_failure(
            workshop,
            job_id,
            started,
            ErrorInfo("internal", "生成文档时发生内部错误", "Internal error while producing"),
        )
    done = msgspec.structs.replace(done, attempts=started.attempts, started_at=started.started_at)
    workshop.jobs.put_document(job_id, done)
    log.info(
        "document.succeeded job_id=%s attachment=%s version=%s reused=%s",
        job_id,
        attachment,
        done.version,
        done.reused,
    )
    return done


def _record_failure(
    workshop: Workshop, job_id: str, started: DocumentRecord, error: ErrorInfo
) -> DocumentRecord:
    failed = msgspec.structs.replace(started, status="failed", finished_at=utcnow(), error=error)
    workshop.jobs.put_document(job_id, failed)
    return failed


def _render_and_store(
    workshop: Workshop,
    job: JobRecord,
    request: JobRequest,
    attachment: AttachmentId,
    input_sha256: str,
) -> DocumentRecord:
    job_id = job.id
    template = workshop.catalogue[attachment]
    prefix = document_prefix(job.tenant, request.community_id, request.year, attachment)
    context = build_context(request, attachment)
    identity = document_identity(context, request.pdf_a, template.sha256)
    if job.force:
        # A forced regeneration makes a new version although nothing changed — once: a
        # redelivered message of the same job finds the version by this job-bound identity.
        identity = hashlib.sha256(f"{identity}:{job_id}".encode()).hexdigest()
    files = find_version(workshop.store, prefix, identity)
    if files is None:
        rendered = _render(request, attachment, context, workshop.catalogue, workshop.converter)
        files = store_version(
            workshop.store,
            workshop.counter,
            prefix,
            rendered.stem,
            rendered.docx,
            rendered.pdf,
            {
                "job_id": job_id,
                "created_at": utcnow(),
                "identity": identity,
                "input_sha256": input_sha256,
                "template_id": attachment,
                "template_version": template.version,
                "template_sha256": template.sha256,
                "docxtpl_version": metadata.version("docxtpl"),
                "libreoffice_version": rendered.facts.producer,
                "fonts": rendered.facts.fonts,
                "pdf_a": request.pdf_a,
                "pages": rendered.pages,
            },
            xlsx=rendered.xlsx,
        )
    return DocumentRecord(
        attachment,
        "succeeded",
        version=files.version,
        reused=files.reused,
        pages=files.pages,
        pdf_key=files.pdf_key,
        docx_key=files.docx_key,
        xlsx_key=files.xlsx_key,
        finished_at=utcnow(),
    )
