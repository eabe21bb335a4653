"""`Idempotency-Key`: the same key from the same client within 24 hours returns the first job.

Platforms retry `POST /v1/jobs` when a response times out; without this, each retry would render
and email everything again. The key is claimed *before* the job is made (SET NX), so two
concurrent requests with one key cannot both make a job.
"""

from __future__ import annotations

from typing import Protocol

import msgspec

from docgen.jobs import redis_errors

__all__ = ["Claim", "IdempotencyStore", "MemoryIdempotencyStore", "RedisIdempotencyStore"]

TTL_S = 24 * 3600
MAX_KEY_LENGTH = 255


class Claim(msgspec.Struct, frozen=True):
    job_id: str
    body_sha256: str  # the same key with another body is a client error, not a retry


class IdempotencyStore(Protocol):
    def claim(self, tenant: str, key: str, claim: Claim) -> Claim | None:
        """Record `claim` for the key; the earlier claim instead if the key was used before."""
        ...

    def release(self, tenant: str, key: str) -> None:
        """Forget a claim whose job could not be made, so that a retry can make it."""
        ...


class RedisIdempotencyStore:
    def __init__(self, redis: object, prefix: str = "docgen") -> None:
        self._redis = redis
        self._prefix = prefix

    def _key(self, tenant: str, key: str) -> str:
        return f"{self._prefix}:idempotency:{tenant}:{key}"

    def claim(self, tenant: str, key: str, claim: Claim) -> Claim | None:
        name = self._key(tenant, key)
        with redis_errors():
            if self._redis.set(name, msgspec.json.encode(claim), nx=True, ex=TTL_S):  # type: ignore[attr-defined]
                return None
            raw = self._redis.get(name)  # type: ignore[attr-defined]
        if raw is None:  # expired between the two calls: ours to take
            return self.claim(tenant, key, claim)
        return msgspec.json.decode(raw, type=Claim)

    def release(self, tenant: str, key: str) -> None:
        with redis_errors():
            self._redis.delete(self._key(tenant, key))  # type: ignore[attr-defined]


class MemoryIdempotencyStore:
    def __init__(self) -> None:
        self.claims: dict[tuple[str, str], Claim] = {}

    def claim(self, tenant: str, key: str, claim: Claim) -> Claim | None:
        earlier = self.claims.get((tenant, key))
        if earlier is None:
            self.claims[(tenant, key)] = claim
        return earlier

    def release(self, tenant: str, key: str) -> None:
        self.claims.pop((tenant, key), None)
