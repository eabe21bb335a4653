"""API keys: who is calling (a tenant, with a role), configured hashed, never stored in clear.

A key is a random token handed to one client platform; the service keeps only its SHA-256, so a
leaked configuration file or environment dump grants nothing. Keys come from
`DOCGEN_API_KEYS_FILE` (JSON lines) and/or `DOCGEN_API_KEYS` (a JSON array of the same objects):
`{"id": "k1", "tenant": "dev", "role": "client", "sha256": "<hex of the key>"}`.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable
from typing import Literal

import msgspec

__all__ = [
    "DEV_KEYS",
    "DEV_KEYS_JSON",
    "ApiKey",
    "Caller",
    "KeyRing",
    "Role",
    "hash_key",
    "key_problems",
    "new_key",
    "parse_key_lines",
    "valid_tenant",
]

Role = Literal["client", "admin"]

_TENANT_CHARS = set("abcdefghijklmnopqrstuvwxyz0123456789-_")


class ApiKey(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    id: str  # shown in logs and `docgen keys list` instead of the key
    tenant: str  # first segment of every object key the caller makes
    role: Role
    sha256: str  # hex digest of the key; the key itself is never kept


class Caller(msgspec.Struct, frozen=True):
    """The authenticated caller of one request."""

    key_id: str
    tenant: str
    role: Role

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"

    def may_see(self, tenant: str) -> bool:
        """Admins see every tenant; a client only its own."""
        return self.is_admin or tenant == self.tenant


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def new_key() -> str:
    """A fresh key: 32 random bytes, URL-safe (fits a header without quoting)."""
    return "dg_" + secrets.token_urlsafe(32)


# The three development keys README and `make up` document: not secrets, only for a local stack.
DEV_KEYS = (
    ApiKey("dev-admin", "admin", "admin", hash_key("dev-admin-key")),
    ApiKey("dev-client", "dev", "client", hash_key("dev-client-key")),
    ApiKey("dev-other", "other", "client", hash_key("dev-other-key")),
)
DEV_KEYS_JSON = msgspec.json.encode(list(DEV_KEYS)).decode()  # for DOCGEN_API_KEYS


def valid_tenant(tenant: str) -> bool:
    """A tenant is an object-key segment: short, lowercase ASCII, no slash."""
    return 0 < len(tenant) <= 64 and set(tenant) <= _TENANT_CHARS


def parse_key_lines(text: str, origin: str) -> tuple[list[ApiKey], list[str]]:
    """Keys from JSON lines (blank lines and `#` comments skipped), and every problem found."""
    keys: list[ApiKey] = []
    problems: list[str] = []
    for number, line in enumerate(text.splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        try:
            key = msgspec.json.decode(line, type=ApiKey)
        except msgspec.DecodeError as exc:
            problems.append(f"{origin} line {number}: {exc}")
            continue
        problems.extend(f"{origin} line {number}: {p}" for p in key_problems(key))
        keys.append(key)
    return keys, problems


def key_problems(key: ApiKey) -> list[str]:
    problems = []
    if not valid_tenant(key.tenant):
        problems.append(f"tenant {key.tenant!r}: 1–64 of a-z 0-9 - _")
    if len(key.sha256) != 64 or not set(key.sha256) <= set("0123456789abcdef"):
        problems.append(f"key {key.id!r}: sha256 must be 64 lowercase hex digits")
    return problems


class KeyRing:
    """Looks a presented key up by its hash (a dict lookup: no timing leak on the key's bytes)."""

    def __init__(self, keys: Iterable[ApiKey]) -> None:
        self._by_hash = {k.sha256: k for k in keys}

    def __len__(self) -> int:
        return len(self._by_hash)

    def identify(self, presented: str) -> Caller | None:
        key = self._by_hash.get(hash_key(presented))
        return Caller(key.id, key.tenant, key.role) if key else None
