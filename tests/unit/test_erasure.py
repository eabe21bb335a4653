"""Erasing a community's year, and retention (in-memory stores; Redis and S3 in tests/integration)."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from litestar.testing import TestClient

from docgen.erasure import apply_expiry, plan_expiry
from docgen.fsck import check_store
from docgen.jobs import BundleRecord, DocumentRecord, JobRecord, MemoryJobStore, utcnow
from docgen.objectstore import MemoryStore
from docgen.settings import SettingsError, load_settings
from docgen.storage import (
    LatestInput,
    MemoryVersionCounter,
    VersionCounter,
    document_prefix,
    put_latest_input,
    store_version,
    versions,
)
from tests.fakes import ApiFakes, manifest_fields
from tests.unit.conftest import ADMIN, NO_KEY, OTHER

NOW = dt.datetime(2026, 11, 29, 12, tzinfo=dt.UTC)


def _version(
    store: MemoryStore, counter: VersionCounter, prefix: str, identity: str, job_id: str = "j"
) -> int:
    return store_version(
        store,
        counter,
        prefix,
        "申报书",
        b"docx " + identity.encode(),
        b"%PDF " + identity.encode(),
        manifest_fields(identity, job_id),
    ).version


def _finish(fakes: ApiFakes, job_id: str) -> None:
    for attachment in fakes.jobs.jobs[job_id].attachments:
        done = DocumentRecord(attachment, "succeeded", version=1, finished_at=utcnow())
        fakes.jobs.put_document(job_id, done)


def test_deleting_a_community_year_removes_its_inputs_versions_and_jobs_and_says_so(
    client: TestClient[Any], fakes: ApiFakes, sample_bytes: bytes
) -> None:
    sample = json.loads(sample_bytes)
    community, year = sample["community_id"], sample["year"]
    job_id = client.post("/v1/jobs", content=sample_bytes).json()["id"]
    prefix = document_prefix("dev", community, year, "application")
    counter = fakes.services.versions
    assert [_version(fakes.store, counter, prefix, i, job_id) for i in ("a", "b")] == [1, 2]
    fakes.store.put(f"dev/communities/{community}/{year}/bundles/{job_id}/all.pdf", b"%", "x")
    # Another year and another community of the same tenant are not touched.
    kept = [
        document_prefix("dev", community, year + 1, "application"),
        document_prefix("dev", f"{community}-2", year, "application"),
    ]
    for other in kept:
        _version(fakes.store, counter, other, "a")
    url = f"/v1/communities/{community}?year={year}"

    busy = client.delete(url)
    assert busy.status_code == 409, busy.text
    assert busy.headers["retry-after"] == "30"
    assert busy.json()["errors"][0]["code"] == "community.busy"

    _finish(fakes, job_id)
    # Documents done, but the bundle and the emails are still to be made: still busy.
    assert client.delete(url).status_code == 409
    fakes.jobs.put_bundle(job_id, BundleRecord("b.pdf", "b.zip", ("application",)))
    # Another tenant learns nothing, and removes nothing.
    assert client.delete(url, headers={**NO_KEY, **OTHER}).status_code == 404
    answer = client.delete(url)
    assert answer.status_code == 200, answer.text
    removed = answer.json()["removed"]
    assert removed == {
        "community_id": community,
        "year": year,
        "jobs": 1,
        "versions": 2,
        "inputs": 1,
        # 2 × (docx, pdf, manifest, identity) + bundle + 5 latest pointers + the input
        "objects": 8 + 1 + len(sample["attachments"]) + 1,
    }
    assert client.get(f"/v1/jobs/{job_id}").status_code == 404
    assert (
        client.get(f"/v1/communities/{community}/documents?year={year}").json()["documents"] == []
    )
    assert not [k for k in fakes.store.objects if f"/{community}/{year}/" in k]
    assert not [k for k in fakes.store.objects if k.startswith("dev/inputs/")]
    assert all(versions(fakes.store, p) for p in kept)
    # Numbering starts again: no reservation points at an erased version.
    assert _version(fakes.store, counter, prefix, "a") == 1
    assert client.delete(f"/v1/communities/{community}?year={year + 5}").status_code == 404


def test_an_operator_erases_a_named_tenants_community(
    client: TestClient[Any], fakes: ApiFakes
) -> None:
    prefix = document_prefix("dev", "c1", 2026, "application")
    _version(fakes.store, fakes.services.versions, prefix, "a")
    answer = client.delete("/v1/communities/c1?year=2026&tenant=dev", headers=ADMIN)
    assert answer.status_code == 200, answer.text
    assert answer.json()["removed"]["versions"] == 1
    assert client.delete("/v1/communities/c1").status_code == 400  # the year is required


def _job(job_id: str, created: dt.datetime, input_key: str) -> JobRecord:
    return JobRecord(job_id, "dev", "c1", 2026, created, input_key, ("application",))


def test_retention_keeps_latest_versions_and_what_kept_jobs_and_batches_need() -> None:
    store, jobs, counter = MemoryStore(), MemoryJobStore(), MemoryVersionCounter()
    prefix = document_prefix("dev", "c1", 2026, "application")
    for identity in ("a", "b", "c"):
        _version(store, counter, prefix, identity)
    old, fresh = NOW - dt.timedelta(days=400), NOW - dt.timedelta(days=3)
    inputs = {name: f"dev/inputs/{name * 64}.json" for name in "abc"}
    for key in inputs.values():
        store.put(key, b"{}", "application/json")
    # A batch regenerates from the input the latest pointer names: kept.
    put_latest_input(
        store, "dev", LatestInput("c1", 2026, "application", inputs["a"], "j1", old, "北京市")
    )
    bundle = "dev/communities/c1/2026/bundles/j1/all.pdf"
    store.put(bundle, b"%", "application/pdf")
    for key in store.modified:
        store.modified[key] = old
    jobs.create(_job("j1", old, inputs["c"]))  # finished long ago: expires
    jobs.put_document("j1", DocumentRecord("application", "succeeded", version=1))
    jobs.create(_job("j2", old, inputs["b"]))  # still queued: kept, and its input with it
    jobs.create(_job("j3", fresh, inputs["a"]))  # recent, and it reused v2: v2 is kept
    jobs.put_document("j3", DocumentRecord("application", "succeeded", version=2, reused=True))

    expiry = plan_expiry(store, jobs, NOW, days=365)
    assert (expiry.versions, expiry.bundles, expiry.inputs) == (1, 1, 1)
    assert expiry.keys[0] == f"{prefix}v1/manifest.json"  # the version disappears first
    assert [job.id for job in expiry.jobs] == ["j1"]
    apply_expiry(store, jobs, expiry)

    assert [m.version for m in versions(store, prefix)] == [2, 3]
    assert not [k for k in store.objects if "/v1/" in k]
    assert f"{prefix}identities/a.json" not in store.objects  # it named v1
    assert [k for k in inputs.values() if store.get(k) is None] == [inputs["c"]]
    assert store.get(bundle) is None
    assert sorted(jobs.jobs) == ["j2", "j3"]
    # What is left is consistent (numbering from the oldest kept version), and nothing more is
    # old enough a second time.
    report = check_store(store, jobs, now=NOW)
    assert [p.code for p in report.problems if p.code.startswith("fsck.version")] == []
    again = plan_expiry(store, jobs, NOW, days=365)
    assert (again.keys, again.jobs) == ([], [])


def test_retention_days_are_a_whole_number_and_zero_keeps_everything() -> None:
    assert load_settings({}).retention_days == 0
    assert load_settings({"DOCGEN_RETENTION_DAYS": "365"}).retention_days == 365
    with pytest.raises(SettingsError, match="DOCGEN_RETENTION_DAYS"):
        load_settings({"DOCGEN_RETENTION_DAYS": "a year"})
    with pytest.raises(ValueError, match="at least one day"):
        plan_expiry(MemoryStore(), MemoryJobStore(), NOW, days=0)
