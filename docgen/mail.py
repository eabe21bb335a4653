"""Email to submitters when a job finishes: HTML and plain-text parts from templates, over SMTP.

Sending is one recipient per message, so that each recipient's outcome is recorded on the job and
a retry never sends a second copy to someone who already got one.
"""

from __future__ import annotations

import smtplib
import ssl
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from pathlib import Path
from typing import Literal

import jinja2
import msgspec

from docgen.errors import DocgenError

__all__ = ["MailContent", "MailDocument", "SmtpSettings", "compose", "send", "subject_for"]

_TEMPLATES = jinja2.Environment(
    loader=jinja2.FileSystemLoader(Path(__file__).with_name("mail_templates")),
    autoescape=jinja2.select_autoescape(["html"]),
    undefined=jinja2.StrictUndefined,
    keep_trailing_newline=True,
)


class SmtpSettings(msgspec.Struct, frozen=True):
    host: str
    port: int
    security: Literal["none", "starttls", "ssl"]
    username: str
    password: str
    sender: str  # the From address
    timeout_s: float = 30.0


class MailDocument(msgspec.Struct, frozen=True):
    title: str  # 附件1 行业发展分析报告
    version: int | None
    pages: int | None
    pdf_url: str | None
    docx_url: str | None
    xlsx_url: str | None
    error: str | None  # the readable reason of a failure


class MailContent(msgspec.Struct, frozen=True):
    community_name: str
    year: int
    status: str  # succeeded | partial | failed
    documents: list[MailDocument]
    warnings: list[str]
    share_url: str
    links_expire_on: str  # 2026年12月29日
    bundle_pdf_url: str | None = None
    bundle_zip_url: str | None = None


_OUTCOMES = {"succeeded": "已生成", "partial": "已生成，其中部分材料生成失败", "failed": "生成失败"}


def subject_for(content: MailContent) -> str:
    outcome = {"succeeded": "已生成", "partial": "部分生成失败", "failed": "生成失败"}
    return f"【共同体文书】{content.community_name} {content.year}年度材料{outcome[content.status]}"


def compose(content: MailContent, sender: str, recipient: str) -> EmailMessage:
    subject = subject_for(content)
    values = {"content": content, "subject": subject, "outcome": _OUTCOMES[content.status]}
    message = EmailMessage()
    message["Subject"] = subject
    message["From"] = sender
    message["To"] = recipient
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = make_msgid(domain=sender.rpartition("@")[2] or None)
    message.set_content(_TEMPLATES.get_template("job_finished.txt").render(values))
    message.add_alternative(
        _TEMPLATES.get_template("job_finished.html").render(values), subtype="html"
    )
    return message


def send(message: EmailMessage, smtp: SmtpSettings) -> None:
    """Hand one message to the SMTP server; `DocgenError(mail.failed, retryable)` if it fails."""
    try:
        if smtp.security == "ssl":
            context = ssl.create_default_context()
            with smtplib.SMTP_SSL(
                smtp.host, smtp.port, timeout=smtp.timeout_s, context=context
            ) as client:
                _deliver(client, message, smtp)
        else:
            with smtplib.SMTP(smtp.host, smtp.port, timeout=smtp.timeout_s) as client:
                if smtp.security == "starttls":
                    client.starttls(context=ssl.create_default_context())
                _deliver(client, message, smtp)
    except (OSError, smtplib.SMTPException) as exc:
        # Permanent refusals (5xx for the recipient) are still retried a few times: relays
        # answer 5xx for transient policy reasons too, and the attempts are bounded.
        raise DocgenError(
            "mail.failed",
            "邮件发送失败",
            "Sending the email failed",
            retryable=True,
            detail=f"{smtp.host}:{smtp.port}: {type(exc).__name__}: {exc}",
        ) from exc


def _deliver(client: smtplib.SMTP, message: EmailMessage, smtp: SmtpSettings) -> None:
    if smtp.username:
        client.login(smtp.username, smtp.password)
    client.send_message(message)
