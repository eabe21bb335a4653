"""Signed links for people: a token that grants reading one community's documents of one year.

Emailed links must work for a month, but a presigned S3 URL lives at most 7 days (SigV4, DESIGN
§4). So the email points at the service with this token, and the service presigns a fresh,
short-lived URL on each click. The token is `payload.signature`, both base64url: the payload is
compact JSON (tenant, community, year, job, expiry), the signature an HMAC-SHA256 over it.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
import hmac
import time

import msgspec

from docgen.errors import DocgenError
from docgen.jobs import JobRecord

__all__ = ["LinkGrant", "grant_for", "shared_url", "sign_link", "verify_link"]


class LinkGrant(msgspec.Struct, frozen=True):
    """What a link lets its holder read: this job's documents and earlier versions of them."""

    tenant: str = msgspec.field(name="t")
    community_id: str = msgspec.field(name="c")
    year: int = msgspec.field(name="y")
    job_id: str = msgspec.field(name="j")
    expires_at: int = msgspec.field(name="e")  # unix seconds


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _mac(secret: bytes, payload: str) -> str:
    return _b64(hmac.new(secret, payload.encode(), hashlib.sha256).digest())


def sign_link(grant: LinkGrant, secret: bytes) -> str:
    payload = _b64(msgspec.json.encode(grant))
    return f"{payload}.{_mac(secret, payload)}"


def _refused(code: str, message: str, message_en: str) -> DocgenError:
    return DocgenError(code, message, message_en)


def verify_link(token: str, secret: bytes, now: float | None = None) -> LinkGrant:
    """The grant of a valid token; `DocgenError` `link.invalid` or `link.expired` otherwise."""
    payload, _, signature = token.partition(".")
    # As bytes: compare_digest refuses str with non-ASCII characters, and a token is untrusted.
    expected = _mac(secret, payload).encode()
    if not signature or not hmac.compare_digest(signature.encode(), expected):
        raise _refused(
            "link.invalid",
            "下载链接无效，请使用邮件中的完整链接，或联系提交材料的平台重新获取。",
            "The link is not valid: use the complete link from the email.",
        )
    try:
        grant = msgspec.json.decode(_unb64(payload), type=LinkGrant)
    except (binascii.Error, ValueError, msgspec.DecodeError) as exc:  # signed but unreadable
        raise _refused("link.invalid", "下载链接无效", "The link is not valid") from exc
    if grant.expires_at < (time.time() if now is None else now):
        raise _refused(
            "link.expired",
            "下载链接已过期，请联系提交材料的平台重新发送。",
            "The link has expired: ask the platform that submitted the documents to send it again.",
        )
    return grant


def grant_for(job: JobRecord, ttl_days: int) -> LinkGrant:
    """The grant of a job's emailed link: its community and year, for `ttl_days` from creation."""
    expires = job.created_at + dt.timedelta(days=ttl_days)
    return LinkGrant(job.tenant, job.community_id, job.year, job.id, int(expires.timestamp()))


def shared_url(base_url: str, token: str, *path: str) -> str:
    """A link for people: `/v1/shared/{token}` (the job's page) or a file beneath it."""
    return "/".join([f"{base_url}/v1/shared/{token}", *path])
