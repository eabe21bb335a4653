"""docgen fsck on in-memory stores broken on purpose: each defect is named, nothing else is."""

from __future__ import annotations

import datetime as dt

import msgspec
import pytest

from docgen.fsck import check_store
from docgen.jobs import (
    BundleRecord,
    DocumentRecord,
    JobRecord,
    MemoryJobStore,
    NotificationRecord,
)
from docgen.objectstore import MemoryStore
from docgen.storage import MemoryVersionCounter, document_prefix, store_version

NOW = dt.datetime(2026, 3, 1, 12, 0, tzinfo=dt.UTC)
OLD = NOW - dt.timedelta(hours=2)
PREFIX = document_prefix("dev", "c-1", 2026, "industry_analysis")


class Clock:
    def __init__(self) -> None:
        self.now = OLD

    def __call__(self) -> dt.datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def store(clock: Clock) -> MemoryStore:
    return MemoryStore(clock)


def write_version(store: MemoryStore, identity: str, counter: MemoryVersionCounter) -> int:
    files = store_version(
        store,
        counter,
        PREFIX,
        "附件1-行业发展分析报告",
        f"docx {identity}".encode(),
        f"pdf {identity}".encode(),
        {
            "job_id": "job-1",
            "created_at": OLD,
            "identity": identity,
            "input_sha256": "0" * 64,
            "template_id": "industry_analysis",
            "template_version": 1,
            "template_sha256": "1" * 64,
            "docxtpl_version": "0.20.2",
            "pages": 1,
        },
    )
    return files.version


def codes(report: object) -> list[str]:
    return sorted(p.code for p in report.problems)  # type: ignore[attr-defined]


def test_a_sound_store_is_consistent(store: MemoryStore) -> None:
    counter = MemoryVersionCounter()
    write_version(store, "a", counter)
    write_version(store, "b", counter)
    report = check_store(store, None, now=NOW)
    assert report.ok and report.problems == []
    assert report.checked["versions"] == 2 and report.checked["files"] == 4


def test_a_missing_file_and_a_wrong_checksum_are_named_by_key(store: MemoryStore) -> None:
    counter = MemoryVersionCounter()
    write_version(store, "a", counter)
    write_version(store, "b", counter)
    del store.objects[f"{PREFIX}v1/附件1-行业发展分析报告.pdf"]
    store.put(f"{PREFIX}v2/附件1-行业发展分析报告.docx", b"docx X", "x")  # same size, other bytes
    report = check_store(store, None, now=NOW)
    assert not report.ok
    found = {(p.code, p.key) for p in report.problems}
    assert found == {
        ("fsck.file_missing", f"{PREFIX}v1/附件1-行业发展分析报告.pdf"),
        ("fsck.file_checksum", f"{PREFIX}v2/附件1-行业发展分析报告.docx"),
    }


def test_a_wrong_size_is_reported_without_hashing(store: MemoryStore) -> None:
    write_version(store, "a", MemoryVersionCounter())
    store.put(f"{PREFIX}v1/附件1-行业发展分析报告.pdf", b"longer than before", "x")
    assert codes(check_store(store, None, now=NOW)) == ["fsck.file_size"]


def test_a_gap_and_a_duplicate_identity_are_found(store: MemoryStore) -> None:
    counter = MemoryVersionCounter()
    write_version(store, "a", counter)
    counter.next_version(PREFIX, 1)  # v2 handed out and never written
    write_version(store, "b", counter)  # v3
    counter.reserved.clear()  # as if the reservation was lost: the same identity again
    write_version(store, "b", counter)  # v4
    report = check_store(store, None, now=NOW)
    assert codes(report) == ["fsck.version_duplicate", "fsck.version_gap"]
    gap = next(p for p in report.problems if p.code == "fsck.version_gap")
    assert gap.key == f"{PREFIX}v2/"


def test_a_half_written_version_is_reported_and_removed_only_once_abandoned(
    store: MemoryStore, clock: Clock
) -> None:
    write_version(store, "a", MemoryVersionCounter())
    store.put(f"{PREFIX}v2/附件1-行业发展分析报告.docx", b"abandoned", "x")  # its writer died
    store.put(f"{PREFIX}v2/附件1-行业发展分析报告.pdf", b"abandoned", "x")
    clock.now = NOW - dt.timedelta(seconds=30)
    store.put(f"{PREFIX}v3/附件1-行业发展分析报告.docx", b"in flight", "x")  # being written now
    assert codes(check_store(store, None, now=NOW)) == ["fsck.version_incomplete"] * 2

    report = check_store(store, None, now=NOW, repair=True)
    # The number v2 stays unused: versions are immutable, the next ones are not renumbered.
    assert [(p.code, p.key) for p in report.problems] == [
        ("fsck.version_incomplete", f"{PREFIX}v3/"),
        ("fsck.version_gap", f"{PREFIX}v2/"),
    ]
    assert [(r.code, r.key) for r in report.repaired] == [
        ("fsck.incomplete_removed", f"{PREFIX}v2/")
    ]
    assert not any(k.startswith(f"{PREFIX}v2/") for k in store.objects)
    assert f"{PREFIX}v3/附件1-行业发展分析报告.docx" in store.objects  # too young to touch

    # Without --repair nothing is removed, whatever its age.
    later = check_store(store, None, now=NOW + dt.timedelta(hours=1))
    assert {p.code for p in later.problems} == {"fsck.version_incomplete", "fsck.version_gap"}
    assert later.repaired == []


def test_an_unlisted_file_and_a_dangling_identity_are_found(store: MemoryStore) -> None:
    write_version(store, "a", MemoryVersionCounter())
    store.put(f"{PREFIX}v1/stray.pdf", b"?", "x")
    store.put(f"{PREFIX}identities/zzz.json", b'{"version": 7}', "x")
    assert codes(check_store(store, None, now=NOW)) == [
        "fsck.file_unlisted",
        "fsck.identity_dangling",
    ]


def job(job_id: str, **fields: object) -> JobRecord:
    return JobRecord(
        id=job_id,
        tenant="dev",
        community_id="c-1",
        year=2026,
        created_at=OLD,
        input_key="dev/inputs/abc.json",
        attachments=("industry_analysis",),
        **fields,  # type: ignore[arg-type]
    )


def succeeded(version: int) -> DocumentRecord:
    base = f"{PREFIX}v{version}/附件1-行业发展分析报告"
    return DocumentRecord(
        "industry_analysis",
        "succeeded",
        version=version,
        pdf_key=f"{base}.pdf",
        docx_key=f"{base}.docx",
        finished_at=OLD,
    )


def test_job_records_must_point_at_existing_inputs_versions_bundles_and_notifications(
    store: MemoryStore,
) -> None:
    write_version(store, "a", MemoryVersionCounter())
    store.put("dev/inputs/abc.json", b"{}", "application/json")
    jobs = MemoryJobStore()
    # A sound job: its version, bundle and notification exist.
    jobs.create(job("good", notify_emails=("a@example.cn",)))
    jobs.put_document("good", succeeded(1))
    store.put("dev/b/good.pdf", b"%PDF", "x")
    store.put("dev/b/good.zip", b"PK", "x")
    jobs.put_bundle(
        "good", BundleRecord("dev/b/good.pdf", "dev/b/good.zip", ("industry_analysis",))
    )
    jobs.put_notification("good", NotificationRecord("email", "a@example.cn", "sent"))
    assert check_store(store, jobs, now=NOW).ok

    # Points at a version that is not there, was never finished, lost its input.
    jobs.create(job("bad", notify_emails=("b@example.cn",)))
    jobs.put_document("bad", succeeded(5))
    jobs.create(msgspec.structs.replace(job("stuck"), input_key="dev/inputs/gone.json"))
    report = check_store(store, jobs, now=NOW)
    assert sorted((p.code, p.key) for p in report.problems) == [
        ("fsck.bundle_missing", "bad"),
        ("fsck.input_missing", "stuck"),
        ("fsck.job_file_missing", "bad"),
        ("fsck.job_file_missing", "bad"),
        ("fsck.job_unfinished", "stuck"),
        ("fsck.job_version_missing", "bad"),
        ("fsck.notification_missing", "bad"),
    ]
    # Within the grace period a finished job's bundle may still be in the making.
    young = check_store(store, jobs, now=OLD + dt.timedelta(minutes=1))
    assert "fsck.bundle_missing" not in codes(young)
    assert "fsck.job_unfinished" not in codes(young)


def test_one_tenant_only(store: MemoryStore) -> None:
    write_version(store, "a", MemoryVersionCounter())
    store.put("other/communities/x/2026/industry_analysis/v2/f.pdf", b"?", "x")
    assert check_store(store, None, tenant="dev", now=NOW).ok
    assert not check_store(store, None, tenant="other", now=NOW).ok


def test_the_report_encodes_as_the_documented_json(store: MemoryStore) -> None:
    store.put(f"{PREFIX}v1/x.pdf", b"?", "x")
    encoded = msgspec.json.decode(msgspec.json.encode(check_store(store, None, now=NOW)))
    assert set(encoded) == {"ok", "checked", "problems", "repaired"}
    assert set(encoded["problems"][0]) == {"code", "key", "message_zh", "message"}
