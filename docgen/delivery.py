"""When a job's documents are all done: the bundle, then an email per submitter and the webhook.

Three steps, each safe to repeat (dramatiq delivers at least once, DESIGN §4):
- `job_done` — after each document: True for the one caller that should start the finishing.
- `finish_job` — makes the bundle once (kept on the job) and lists who is still to be told.
- `deliver` — tells one recipient; a recipient recorded as `sent` is never told twice.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from typing import Literal

import msgspec

from docgen.batches import BatchStore, batch_complete, batch_status
from docgen.bundle import bundle_pdf, bundle_zip
from docgen.context import ATTACHMENT_NUMBERS, chinese_date
from docgen.errors import DocgenError
from docgen.jobs import (
    BundleRecord,
    DocumentRecord,
    JobRecord,
    NotificationRecord,
    job_status,
    utcnow,
)
from docgen.links import grant_for, shared_url, sign_link
from docgen.mail import MailContent, MailDocument, compose, send
from docgen.pipeline import Workshop
from docgen.resources import job_resource
from docgen.schema import JobRequest
from docgen.settings import DeliverySettings
from docgen.storage import bundle_prefix
from docgen.webhooks import post_webhook

__all__ = [
    "Channel",
    "attachment_title",
    "batch_done",
    "deliver",
    "deliver_batch_webhook",
    "finish_job",
    "job_done",
    "share_link",
]

log = logging.getLogger("docgen.delivery")

Channel = Literal["email", "webhook"]


def attachment_title(workshop: Workshop, attachment: str) -> str:
    """附件1 行业发展分析报告 — what people call each document."""
    template = workshop.catalogue[attachment]  # type: ignore[index]
    return f"附件{ATTACHMENT_NUMBERS[attachment]} {template.title}"  # type: ignore[index]


def job_done(workshop: Workshop, job_id: str) -> bool:
    """After a document finished: True once per job, when every document has finished."""
    found = workshop.jobs.get(job_id)
    if found is None or any(d.status not in ("succeeded", "failed") for d in found[1]):
        return False
    return workshop.jobs.claim_finish(job_id)


def share_link(job: JobRecord, settings: DeliverySettings, base_url: str) -> str:
    return shared_url(
        base_url, sign_link(grant_for(job, settings.link_ttl_days), _secret(settings))
    )


def _secret(settings: DeliverySettings) -> bytes:
    return settings.link_secret.encode()


def _request(workshop: Workshop, job: JobRecord) -> JobRequest:
    body = workshop.store.get(job.input_key)
    if body is None:
        raise DocgenError("input.missing", "找不到该任务的输入数据", "The job's input is missing")
    return msgspec.json.decode(body, type=JobRequest)


def _make_bundle(
    workshop: Workshop, job: JobRecord, documents: list[DocumentRecord], request: JobRequest
) -> BundleRecord | None:
    done = [d for d in documents if d.status == "succeeded" and d.pdf_key and d.docx_key]
    if not done:
        return None
    parts, files = [], []
    for doc in done:
        stem = workshop.catalogue[doc.attachment].stem
        for kind, key in (("pdf", doc.pdf_key), ("docx", doc.docx_key), ("xlsx", doc.xlsx_key)):
            if key is None:
                continue
            data = workshop.store.get(key)
            if data is None:
                raise DocgenError(
                    "storage.missing", "找不到已生成的文件", "A stored file is missing", detail=key
                )
            files.append((f"{stem}.{kind}", data))
            if kind == "pdf":
                parts.append((attachment_title(workshop, doc.attachment), data))
    title = f"{request.community.name} {job.year}年度材料"
    prefix = bundle_prefix(job.tenant, job.community_id, job.year, job.id)
    pdf, archive = bundle_pdf(parts, title=title), bundle_zip(files, modified=job.created_at)
    record = BundleRecord(
        pdf_key=f"{prefix}{job.year}年度材料合订本.pdf",
        zip_key=f"{prefix}{job.year}年度材料.zip",
        attachments=tuple(d.attachment for d in done),
        pdf_size=len(pdf),
        zip_size=len(archive),
    )
    workshop.store.put(record.pdf_key, pdf, "application/pdf")
    workshop.store.put(record.zip_key, archive, "application/zip")
    return record


def finish_job(workshop: Workshop, job_id: str) -> list[tuple[Channel, str]]:
    """Make the bundle if not made yet; the recipients still to be told, recorded as queued."""
    found = workshop.jobs.get(job_id)
    if found is None:
        return []
    job, documents = found
    delivery = workshop.jobs.get_delivery(job_id)
    if delivery.bundle is None:
        bundle = _make_bundle(workshop, job, documents, _request(workshop, job))
        if bundle is not None:
            workshop.jobs.put_bundle(job_id, bundle)
    known = {(n.channel, n.target): n for n in delivery.notifications}
    targets: list[tuple[Channel, str]] = [("email", e) for e in job.notify_emails]
    if job.webhook_url:
        targets.append(("webhook", job.webhook_url))
    pending: list[tuple[Channel, str]] = []
    for channel, target in targets:
        note = known.get((channel, target))
        if note is None:
            workshop.jobs.put_notification(job_id, NotificationRecord(channel, target))
        if note is None or note.status == "queued":
            pending.append((channel, target))
    return pending


def _mail_content(
    workshop: Workshop,
    job: JobRecord,
    documents: list[DocumentRecord],
    request: JobRequest,
    settings: DeliverySettings,
    base_url: str,
) -> MailContent:
    token = sign_link(grant_for(job, settings.link_ttl_days), _secret(settings))

    def link(doc: DocumentRecord, kind: str) -> str | None:
        key = getattr(doc, f"{kind}_key")
        if doc.status != "succeeded" or key is None:
            return None
        return shared_url(base_url, token, "documents", doc.attachment, kind)

    bundle = workshop.jobs.get_delivery(job.id).bundle
    expires = job.created_at + dt.timedelta(days=settings.link_ttl_days)
    return MailContent(
        community_name=request.community.name,
        year=job.year,
        status=job_status(documents),
        documents=[
            MailDocument(
                title=attachment_title(workshop, d.attachment),
                version=d.version,
                pages=d.pages,
                pdf_url=link(d, "pdf"),
                docx_url=link(d, "docx"),
                xlsx_url=link(d, "xlsx"),
                error=d.error.message if d.error else None,
            )
            for d in documents
        ],
        warnings=[w.message for w in job.warnings],
        share_url=shared_url(base_url, token),
        links_expire_on=chinese_date(expires.astimezone(dt.timezone(dt.timedelta(hours=8)))),
        bundle_pdf_url=shared_url(base_url, token, "bundle", "pdf") if bundle else None,
        bundle_zip_url=shared_url(base_url, token, "bundle", "zip") if bundle else None,
    )


def deliver(
    workshop: Workshop,
    job_id: str,
    channel: Channel,
    target: str,
    settings: DeliverySettings,
    base_url: str,
    *,
    final_attempt: bool,
) -> NotificationRecord | None:
    """Tell one recipient. A failure is recorded; it is re-raised for a retry unless final."""
    found = workshop.jobs.get(job_id)
    if found is None:
        return None
    job, documents = found
    delivery = workshop.jobs.get_delivery(job_id)
    note = next(
        (n for n in delivery.notifications if (n.channel, n.target) == (channel, target)),
        NotificationRecord(channel, target),
    )
    if note.status != "queued":
        return note  # told already, or given up on: a redelivered message does nothing

    def send() -> None:
        if channel == "email":
            _send_email(workshop, job, documents, target, settings, base_url)
        else:
            _send_webhook(workshop, job, documents, target, settings, base_url)

    def record(outcome: NotificationRecord) -> None:
        workshop.jobs.put_notification(job_id, outcome)

    # Log ids, not addresses (PIPL): the target is on the job for its owner to read.
    return _attempt(note, send, record, final_attempt, f"job_id={job_id} channel={channel}")


def _attempt(
    note: NotificationRecord,
    send: Callable[[], None],
    record: Callable[[NotificationRecord], None],
    final_attempt: bool,
    about: str,
) -> NotificationRecord:
    """One attempt to tell a recipient, recorded either way; re-raised for a retry unless final."""
    attempt = msgspec.structs.replace(note, attempts=note.attempts + 1)
    try:
        send()
    except DocgenError as exc:
        failed = final_attempt or not exc.retryable
        attempt = msgspec.structs.replace(
            attempt,
            status="failed" if failed else "queued",
            last_error=f"{exc.code}: {exc.message_en}",
        )
        record(attempt)
        log.warning(
            "notification.failed %s attempt=%d final=%s code=%s detail=%s",
            about,
            attempt.attempts,
            failed,
            exc.code,
            exc.detail,
        )
        if failed:
            return attempt
        raise
    sent = msgspec.structs.replace(attempt, status="sent", sent_at=utcnow(), last_error=None)
    record(sent)
    log.info("notification.sent %s", about)
    return sent


def _post_signed(url: str, body: bytes, settings: DeliverySettings) -> None:
    if not settings.webhook_secret:
        raise DocgenError(
            "webhook.unconfigured",
            "未配置回调签名密钥（DOCGEN_WEBHOOK_SECRET）",
            "No webhook signing secret is configured (DOCGEN_WEBHOOK_SECRET)",
        )
    post_webhook(
        url,
        body,
        settings.webhook_secret.encode(),
        timeout_s=settings.webhook_timeout_s,
        allow_http=settings.webhook_allow_http,
        allow_private=settings.webhook_allow_private,
    )


def _send_email(
    workshop: Workshop,
    job: JobRecord,
    documents: list[DocumentRecord],
    recipient: str,
    settings: DeliverySettings,
    base_url: str,
) -> None:
    if settings.smtp is None:
        raise DocgenError(
            "mail.unconfigured",
            "未配置邮件服务（DOCGEN_SMTP_HOST）",
            "No SMTP server is configured (DOCGEN_SMTP_HOST)",
        )
    content = _mail_content(workshop, job, documents, _request(workshop, job), settings, base_url)
    send(compose(content, settings.smtp.sender, recipient), settings.smtp)


def _send_webhook(
    workshop: Workshop,
    job: JobRecord,
    documents: list[DocumentRecord],
    url: str,
    settings: DeliverySettings,
    base_url: str,
) -> None:
    # The job as GET /v1/jobs/{id} shows it, minus the notifications still being made.
    delivery = workshop.jobs.get_delivery(job.id)
    resource = job_resource(
        job,
        documents,
        base_url,
        msgspec.structs.replace(delivery, notifications=[]),
        share_link(job, settings, base_url),
    )
    _post_signed(url, msgspec.json.encode({"event": "job.finished", "job": resource}), settings)


def deliver_batch_webhook(
    workshop: Workshop,
    batches: BatchStore,
    batch_id: str,
    settings: DeliverySettings,
    *,
    final_attempt: bool,
) -> NotificationRecord | None:
    """One signed call when a batch ends (not one per document); recorded on the batch."""
    batch = batches.get(batch_id)
    if batch is None or not batch.request.webhook_url:
        return None
    url = batch.request.webhook_url
    known = batches.notifications(batch_id)
    note = known[0] if known else NotificationRecord("webhook", url)
    if note.status != "queued":
        return note
    status = batch_status(workshop.jobs, batches, batch, utcnow())
    body = msgspec.json.encode(
        {"event": "batch.finished", "batch": msgspec.structs.replace(status, notifications=[])}
    )
    return _attempt(
        note,
        lambda: _post_signed(url, body, settings),
        lambda outcome: batches.put_notification(batch_id, outcome),
        final_attempt,
        f"batch_id={batch_id} channel=webhook",
    )


def batch_done(workshop: Workshop, batches: BatchStore, batch_id: str) -> bool:
    """After a batch job finished: True once, when every document of the batch has."""
    batch = batches.get(batch_id)
    if batch is None or not batch_complete(workshop.jobs, batch):
        return False
    return batches.claim_finish(batch_id)
