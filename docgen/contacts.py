"""Phone numbers, email addresses and callback URLs.

Phones follow the contract's three patterns exactly — they are the rule, so no library is asked
(a library would refuse numbers they accept, or accept ones they refuse). `\\d` means ASCII digits
here, as in the JSON Schema and JavaScript dialects the contract's readers use; Python's `\\d`
would also match full-width and other scripts' digits.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from docgen.errors import FieldProblem
from docgen.findings import quote

__all__ = ["email_problem", "is_email", "is_phone", "phone_problem", "webhook_url_problem"]

_PHONES = (
    re.compile(r"1[3-9]\d{9}", re.ASCII),  # mobile
    re.compile(r"0\d{2,3}-?\d{7,8}(-\d{1,6})?", re.ASCII),  # landline, extension after a dash
    re.compile(r"[48]00-?\d{3}-?\d{4}", re.ASCII),  # 400/800 service numbers
)

# The WHATWG HTML "valid email address" (what a browser's <input type=email> accepts), with a dot
# required in the domain: mail to a dotless host never leaves an organisation's network.
_LOCAL = re.compile(r"[a-zA-Z0-9.!#$%&'*+/=?^_`{|}~-]+", re.ASCII)
_LABEL = re.compile(r"[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?", re.ASCII)


def is_phone(value: str) -> bool:
    # fullmatch, not `$`: `$` also matches before a trailing newline.
    return any(p.fullmatch(value) for p in _PHONES)


def phone_problem(path: str, value: str) -> FieldProblem | None:
    if is_phone(value):
        return None
    return FieldProblem(
        path,
        "phone.invalid",
        f"电话号码「{quote(value)}」格式不正确：应为 11 位手机号（如 13807310001）、带区号的固定电话"
        "（如 0731-28880001，分机号用“-”接在后面）或 400/800 服务电话；不加 +86、空格或括号",
        f"Phone number '{quote(value)}' is not valid: use an 11-digit mobile number "
        "(13807310001), a landline with its area code (0731-28880001, an extension after a "
        "dash) or a 400/800 service number; no +86, spaces or brackets",
    )


def is_email(value: str) -> bool:
    local, at, domain = value.rpartition("@")
    if not at or not _LOCAL.fullmatch(local) or "." not in domain:
        return False
    try:
        # Chinese domain names (例子.中国) are valid; their labels are checked in ASCII form.
        ascii_domain = domain.encode("idna").decode("ascii")
    except UnicodeError:
        return False
    return all(_LABEL.fullmatch(label) for label in ascii_domain.split("."))


def email_problem(path: str, value: str) -> FieldProblem | None:
    if is_email(value):
        return None
    return FieldProblem(
        path,
        "email.invalid",
        f"电子邮箱「{quote(value)}」格式不正确（如 name@example.cn）",
        f"Email address '{quote(value)}' is not valid (e.g. name@example.cn)",
    )


def webhook_url_problem(path: str, value: str) -> FieldProblem | None:
    """An absolute http(s) URL with a host. Whether plain http is allowed is the sender's rule."""
    try:
        parts = urlsplit(value)
        valid = parts.scheme in ("https", "http") and bool(parts.hostname) and " " not in value
    except ValueError:
        valid = False
    if valid:
        return None
    return FieldProblem(
        path,
        "url.invalid",
        f"回调地址「{quote(value)}」不是有效的 https 网址",
        f"Callback '{quote(value)}' is not a valid https URL",
    )
