"""Signed webhooks to the calling platform.

`X-Docgen-Signature: t=<unix>,v1=<hex HMAC-SHA256 of "t.body">`: the timestamp is inside the
signed text, so a receiver that refuses old timestamps also refuses replays. Destinations on
loopback, link-local, private and reserved ranges are refused unless configuration allows them
(server-side request forgery: the platform chooses the URL, the service makes the request).
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import socket
import time
from urllib.parse import urlsplit

import httpx

from docgen.errors import DocgenError

__all__ = [
    "SIGNATURE_HEADER",
    "check_destination",
    "check_url",
    "post_webhook",
    "sign",
    "verify",
]

SIGNATURE_HEADER = "X-Docgen-Signature"


def sign(body: bytes, secret: bytes, timestamp: int) -> str:
    mac = hmac.new(secret, f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={mac}"


def verify(
    header: str, body: bytes, secret: bytes, tolerance_s: int = 300, now: float | None = None
) -> bool:
    """What a receiver does: the signature matches and the timestamp is recent."""
    parts = dict(p.split("=", 1) for p in header.split(",") if "=" in p)
    try:
        timestamp = int(parts["t"])
    except (KeyError, ValueError):
        return False
    fresh = abs((time.time() if now is None else now) - timestamp) <= tolerance_s
    return fresh and hmac.compare_digest(sign(body, secret, timestamp), header)


def _refused(url: str, why: str, why_en: str) -> DocgenError:
    return DocgenError(
        "webhook.destination",
        f"回调地址不被允许：{why}",
        f"The webhook destination is not allowed: {why_en}",
        detail=url,
    )


def check_url(url: str, *, allow_http: bool, allow_private: bool) -> None:
    """What can be told without a name lookup: the scheme, and a literal internal address.

    Used when a request arrives (no network needed to answer it); `check_destination` adds the
    lookup before each call.
    """
    parts = urlsplit(url)
    if parts.scheme not in (("https", "http") if allow_http else ("https",)):
        raise _refused(url, "须使用 https", "https is required")
    if not parts.hostname:
        raise _refused(url, "缺少主机名", "no host name")
    if allow_private:
        return
    if parts.hostname == "localhost" or parts.hostname.endswith(".localhost"):
        raise _refused(url, "localhost 是内部地址", "localhost is not a public address")
    try:
        address = ipaddress.ip_address(parts.hostname)
    except ValueError:
        return  # a name: checked when it is called
    if not address.is_global or address.is_multicast:
        raise _refused(url, f"{address} 是内部地址", f"{address} is not a public address")


def check_destination(url: str, *, allow_http: bool, allow_private: bool) -> None:
    """Refuse a URL the service must not call; resolves the host name to check its addresses.

    A name that resolves differently later (DNS rebinding) is not caught here; the request
    itself does not follow redirects, which closes the simpler way around this check.
    """
    check_url(url, allow_http=allow_http, allow_private=allow_private)
    if allow_private:
        return
    parts = urlsplit(url)
    try:
        infos = socket.getaddrinfo(parts.hostname, parts.port or 443, proto=socket.IPPROTO_TCP)
    except socket.gaierror as exc:
        raise DocgenError(
            "webhook.failed",
            "回调地址无法解析",
            "The webhook host name does not resolve",
            retryable=True,
            detail=f"{url}: {exc}",
        ) from exc
    for info in infos:
        address = ipaddress.ip_address(info[4][0])
        if not address.is_global or address.is_multicast:
            raise _refused(url, f"{address} 是内部地址", f"{address} is not a public address")


def post_webhook(
    url: str,
    body: bytes,
    secret: bytes,
    *,
    timeout_s: float,
    allow_http: bool,
    allow_private: bool,
) -> int:
    """POST the signed body; the receiver's status when it is 2xx, else `DocgenError`."""
    check_destination(url, allow_http=allow_http, allow_private=allow_private)
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "docgen-webhook/1",
        SIGNATURE_HEADER: sign(body, secret, int(time.time())),
    }
    try:
        response = httpx.post(
            url, content=body, headers=headers, timeout=timeout_s, follow_redirects=False
        )
    except httpx.HTTPError as exc:
        raise DocgenError(
            "webhook.failed",
            "回调请求失败",
            "The webhook request failed",
            retryable=True,
            detail=f"{url}: {type(exc).__name__}: {exc}",
        ) from exc
    if not 200 <= response.status_code < 300:
        raise DocgenError(
            "webhook.failed",
            f"回调接收方返回 {response.status_code}",
            f"The webhook receiver answered {response.status_code}",
            retryable=True,
            detail=url,
        )
    return response.status_code
