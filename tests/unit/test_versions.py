"""Version numbers as storage sees them: one read per write, and no stored version overwritten
when the counter is behind storage (Redis lost or rolled back its data)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import msgspec

from docgen.objectstore import MemoryStore
from docgen.storage import Manifest, MemoryVersionCounter, store_version

PREFIX = "t/communities/c1/2026/application/"


class CountingStore(MemoryStore):
    """Counts listings: a write must not list the prefix while the counter is right."""

    def __init__(self) -> None:
        super().__init__()
        self.listings = 0

    def list(self, prefix: str) -> Iterator[str]:
        self.listings += 1
        return super().list(prefix)


def _write(store: MemoryStore, counter: MemoryVersionCounter, identity: str) -> int:
    fields: dict[str, Any] = {
        "job_id": f"job-{identity}",
        "created_at": dt.datetime(2026, 5, 1, tzinfo=dt.UTC),
        "identity": identity,
        "input_sha256": "0" * 64,
        "template_id": "application",
        "template_version": 1,
        "template_sha256": "1" * 64,
        "docxtpl_version": "0.20",
        "pages": 1,
    }
    pdf = f"%PDF {identity}".encode()
    return store_version(store, counter, PREFIX, "附件5", b"PK docx", pdf, fields).version


def _manifest(store: MemoryStore, version: int) -> Manifest:
    raw = store.get(f"{PREFIX}v{version}/manifest.json")
    assert raw is not None
    return msgspec.json.decode(raw, type=Manifest)


def test_versions_are_numbered_in_turn_without_listing_storage() -> None:
    store, counter = CountingStore(), MemoryVersionCounter()
    assert [_write(store, counter, f"doc-{n}") for n in range(5)] == [1, 2, 3, 4, 5]
    assert store.listings == 0


def test_a_counter_that_lost_its_data_goes_past_the_stored_versions() -> None:
    store = CountingStore()
    first = MemoryVersionCounter()
    for n in range(3):
        _write(store, first, f"doc-{n}")
    assert _write(store, MemoryVersionCounter(), "doc-new") == 4
    assert [_manifest(store, v).identity for v in (1, 2, 3, 4)] == [
        "doc-0",
        "doc-1",
        "doc-2",
        "doc-new",
    ]
    assert store.get(f"{PREFIX}v1/附件5.pdf") == b"%PDF doc-0"
    assert store.listings == 1  # only once the counter proved behind


def test_a_stale_reservation_is_replaced() -> None:
    # Rolled back: the counter and this identity's reservation predate versions 2 and 3.
    store, counter = CountingStore(), MemoryVersionCounter()
    _write(store, counter, "doc-0")
    older = MemoryVersionCounter()
    older.reserve(PREFIX, "doc-late", 0)  # held number 1, which storage has given to doc-0
    _write(store, counter, "doc-1")
    assert _write(store, older, "doc-late") == 3
    assert _manifest(store, 1).identity == "doc-0"


def test_a_retry_after_the_manifest_rewrites_its_own_version() -> None:
    # Killed after the manifest, before the identity record: the retry takes the same number.
    store, counter = CountingStore(), MemoryVersionCounter()
    _write(store, counter, "doc-0")
    store.delete([k for k in store.objects if "/identities/" in k])
    assert _write(store, counter, "doc-0") == 1
    assert store.listings == 0
