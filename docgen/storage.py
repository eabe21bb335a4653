"""Object keys, immutable versions and manifests.

Keys: `{tenant}/communities/{community_id}/{year}/{attachment}/v{n}/{file}`. A version is complete
when its `manifest.json` exists: it is written last, after the DOCX and PDF. An identity record
(`…/{attachment}/identities/{sha}.json`) maps a document's identity — the checksum of its render
context, options and template — to the version that holds it, so a retried message finds its
work done instead of writing a second version.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from typing import Any, Protocol

import msgspec

from docgen.context import Context
from docgen.objectstore import ObjectStore

__all__ = [
    "DocumentFiles",
    "LatestInput",
    "Manifest",
    "MemoryVersionCounter",
    "RedisVersionCounter",
    "VersionCounter",
    "bundle_prefix",
    "document_identity",
    "document_prefix",
    "find_version",
    "input_key",
    "latest_input_key",
    "latest_inputs",
    "put_latest_input",
    "store_version",
    "versions",
]

_VERSION = re.compile(r"/v(\d+)/manifest\.json$")


def document_prefix(tenant: str, community_id: str, year: int, attachment: str) -> str:
    return f"{tenant}/communities/{community_id}/{year}/{attachment}/"


def input_key(tenant: str, body_sha256: str) -> str:
    """Inputs are stored once per content hash."""
    return f"{tenant}/inputs/{body_sha256}.json"


class LatestInput(msgspec.Struct, frozen=True):
    """The stored input a community's attachment was last made from, for one year.

    Kept per attachment: a platform may send 附件1 in March and the 申报书 in October, each in its
    own request; a batch regenerates each from the input that last carried it.
    """

    community_id: str
    year: int
    attachment: str
    input_key: str
    job_id: str
    created_at: dt.datetime
    recommending_province: str


def latest_input_key(tenant: str, year: int, community_id: str, attachment: str) -> str:
    # One folder per year: a batch lists the year's communities without touching versions.
    return f"{tenant}/inputs/latest/{year}/{community_id}/{attachment}.json"


def put_latest_input(store: ObjectStore, tenant: str, latest: LatestInput) -> None:
    store.put(
        latest_input_key(tenant, latest.year, latest.community_id, latest.attachment),
        msgspec.json.encode(latest),
        "application/json",
    )


def latest_inputs(store: ObjectStore, tenant: str, year: int) -> list[LatestInput]:
    """Every community's latest input per attachment for `year`, by community id."""
    found = []
    for key in sorted(store.list(f"{tenant}/inputs/latest/{year}/")):
        raw = store.get(key)
        if raw is not None:
            found.append(msgspec.json.decode(raw, type=LatestInput))
    return found


def document_identity(context: Context, pdf_a: bool, template_sha256: str) -> str:
    canonical = msgspec.json.encode(
        {"context": context, "pdf_a": pdf_a, "template": template_sha256}, order="sorted"
    )
    return hashlib.sha256(canonical).hexdigest()


class FileEntry(msgspec.Struct, frozen=True):
    key: str
    size: int
    sha256: str


class Manifest(msgspec.Struct, frozen=True):
    version: int
    job_id: str
    created_at: dt.datetime
    identity: str
    input_sha256: str
    template_id: str
    template_version: int
    template_sha256: str
    docxtpl_version: str
    pages: int
    files: dict[str, FileEntry]  # "pdf", "docx", and "xlsx" for 附件3
    # Defaults: manifests written before these fields existed still read.
    libreoffice_version: str = ""  # the PDF's producer, e.g. "LibreOffice 7.4"
    fonts: list[str] = []  # the fonts embedded in the PDF
    pdf_a: bool = False


class DocumentFiles(msgspec.Struct, frozen=True):
    version: int
    pdf_key: str
    docx_key: str
    pages: int
    reused: bool
    xlsx_key: str | None = None


class VersionCounter(Protocol):
    def next_version(self, prefix: str, at_least: int) -> int:
        """A version number never handed out before for `prefix`, greater than `at_least`."""
        ...

    def reserve(self, prefix: str, identity: str, at_least: int) -> int:
        """The version number for `identity` under `prefix`: the same one on every attempt.

        A worker killed after taking a number but before the manifest completed the version
        must not leave a gap: its retry writes the same version again (a measured failure of
        the kill-mid-batch test gave versions 1 and 3). A number held that is not greater than
        `at_least` is stale (storage is ahead of it) and is replaced.
        """
        ...

    def forget(self, prefix: str) -> None:
        """Drop the counter and reservations of `prefix`: its versions were erased."""
        ...


class RedisVersionCounter:
    """INCR per prefix; seeded from storage so that a Redis that lost its data never reuses one."""

    def __init__(self, redis: object, namespace: str = "docgen") -> None:
        self._redis = redis
        self._namespace = namespace

    def next_version(self, prefix: str, at_least: int) -> int:
        key = f"{self._namespace}:version:{prefix}"
        self._redis.set(key, at_least, nx=True)  # type: ignore[attr-defined]
        number = int(self._redis.incr(key))  # type: ignore[attr-defined]
        while number <= at_least:  # the counter was behind storage
            number = int(self._redis.incr(key))  # type: ignore[attr-defined]
        return number

    def reserve(self, prefix: str, identity: str, at_least: int) -> int:
        key = f"{self._namespace}:reserved:{prefix}{identity}"
        held = self._redis.get(key)  # type: ignore[attr-defined]
        if held is not None and int(held) > at_least:
            return int(held)
        number = self.next_version(prefix, at_least)
        # A week: far longer than any retry; a second identity-equal writer at the same moment
        # (a duplicated message) takes the number the first one reserved.
        if held is None:
            taken = self._redis.set(key, number, nx=True, ex=_RESERVED_S)  # type: ignore[attr-defined]
        else:
            taken = self._redis.eval(  # type: ignore[attr-defined]
                _REPLACE_IF_UNCHANGED, 1, key, held, number, _RESERVED_S
            )
        if taken:
            return number
        return int(self._redis.get(key))  # type: ignore[attr-defined]

    def forget(self, prefix: str) -> None:
        reserved = f"{self._namespace}:reserved:{_glob_escape(prefix)}*"
        keys = [f"{self._namespace}:version:{prefix}"]
        keys += self._redis.scan_iter(match=reserved, count=1000)  # type: ignore[attr-defined]
        self._redis.delete(*keys)  # type: ignore[attr-defined]


_RESERVED_S = 7 * 24 * 3600
# Replace a stale reservation unless another writer of the same identity replaced it first.
_REPLACE_IF_UNCHANGED = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
    redis.call('SET', KEYS[1], ARGV[2], 'EX', ARGV[3])
    return 1
end
return 0
"""


def _glob_escape(text: str) -> str:
    return re.sub(r"([*?\[\]\\])", r"\\\1", text)


class MemoryVersionCounter:
    def __init__(self) -> None:
        self.last: dict[str, int] = {}
        self.reserved: dict[tuple[str, str], int] = {}

    def next_version(self, prefix: str, at_least: int) -> int:
        self.last[prefix] = max(self.last.get(prefix, 0), at_least) + 1
        return self.last[prefix]

    def reserve(self, prefix: str, identity: str, at_least: int) -> int:
        if self.reserved.get((prefix, identity), 0) <= at_least:
            self.reserved[(prefix, identity)] = self.next_version(prefix, at_least)
        return self.reserved[(prefix, identity)]

    def forget(self, prefix: str) -> None:
        self.last.pop(prefix, None)
        self.reserved = {k: v for k, v in self.reserved.items() if k[0] != prefix}


def latest_version(store: ObjectStore, prefix: str) -> int:
    """The highest complete version under `prefix`, by listing all of its files."""
    versions = [int(m.group(1)) for key in store.list(prefix) if (m := _VERSION.search(key))]
    return max(versions, default=0)


def versions(store: ObjectStore, prefix: str) -> list[Manifest]:
    """Every complete version under `prefix`, oldest first (a version without manifest is not)."""
    numbers = sorted(int(m.group(1)) for key in store.list(prefix) if (m := _VERSION.search(key)))
    manifests = []
    for number in numbers:
        raw = store.get(f"{prefix}v{number}/manifest.json")
        if raw is not None:
            manifests.append(msgspec.json.decode(raw, type=Manifest))
    return manifests


def bundle_prefix(tenant: str, community_id: str, year: int, job_id: str) -> str:
    """Where a job's bundle (one PDF of all attachments, one ZIP of all files) is kept."""
    return f"{tenant}/communities/{community_id}/{year}/bundles/{job_id}/"


def find_version(store: ObjectStore, prefix: str, identity: str) -> DocumentFiles | None:
    """The complete version already holding `identity`, if any."""
    record = store.get(f"{prefix}identities/{identity}.json")
    if record is None:
        return None
    version = msgspec.json.decode(record, type=dict[str, int])["version"]
    raw = store.get(f"{prefix}v{version}/manifest.json")
    if raw is None:
        return None
    manifest = msgspec.json.decode(raw, type=Manifest)
    xlsx = manifest.files.get("xlsx")
    return DocumentFiles(
        version,
        manifest.files["pdf"].key,
        manifest.files["docx"].key,
        manifest.pages,
        reused=True,
        xlsx_key=xlsx.key if xlsx else None,
    )


def _version_for(store: ObjectStore, counter: VersionCounter, prefix: str, identity: str) -> int:
    """The number `identity` is written as: the counter's, unless storage holds a complete version
    of another document under it. Then the counter is behind storage (Redis lost or rolled back
    its data), and the number goes past the highest version stored.

    Checking the one number costs one read. Listing the prefix for its highest version, as this
    did before, grew with every version kept: ≈0.1 ms of client and server CPU per key, five keys
    per version (docs/BENCHMARKS.md §4).
    """
    version = counter.reserve(prefix, identity, 0)
    raw = store.get(f"{prefix}v{version}/manifest.json")
    if raw is None:
        return version
    try:
        if msgspec.json.decode(raw, type=Manifest).identity == identity:
            return version  # this document's own version, written by an earlier attempt
    except msgspec.DecodeError:
        pass  # unreadable, but there: not ours to overwrite
    return counter.reserve(prefix, identity, latest_version(store, prefix))


def store_version(
    store: ObjectStore,
    counter: VersionCounter,
    prefix: str,
    stem: str,
    docx: bytes,
    pdf: bytes,
    manifest_fields: dict[str, Any],
    xlsx: bytes | None = None,
) -> DocumentFiles:
    """Write a new immutable version: DOCX, PDF (and XLSX), then the manifest that completes it."""
    identity = manifest_fields["identity"]
    version = _version_for(store, counter, prefix, identity)
    base = f"{prefix}v{version}/"
    files = {}
    parts = [
        ("docx", docx, "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
        ("pdf", pdf, "application/pdf"),
    ]
    if xlsx is not None:
        parts.append(
            ("xlsx", xlsx, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
        )
    for kind, data, content_type in parts:
        key = f"{base}{stem}.{kind}"
        store.put(key, data, content_type)
        files[kind] = FileEntry(key, len(data), hashlib.sha256(data).hexdigest())
    manifest = Manifest(version=version, files=files, **manifest_fields)
    store.put(f"{base}manifest.json", msgspec.json.encode(manifest), "application/json")
    store.put(
        f"{prefix}identities/{identity}.json",
        msgspec.json.encode({"version": version}),
        "application/json",
    )
    return DocumentFiles(
        version,
        files["pdf"].key,
        files["docx"].key,
        manifest.pages,
        False,
        files["xlsx"].key if "xlsx" in files else None,
    )
