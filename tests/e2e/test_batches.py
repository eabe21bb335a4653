"""Year-end batches through real processes: reuse, a changed template, a killed worker, cancel.

The API and workers are separate processes sharing the tests' Redis and SeaweedFS; a worker is
killed with SIGKILL in the middle of a batch and another started — the batch completes and no
community gets two new versions.
"""

from __future__ import annotations

import hashlib
import io
import json
import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from docx import Document

from docgen.processes import wait_until
from docgen.webhooks import verify
from tests.conftest import S3Server
from tests.receivers import WebhookReceiver
from tests.stack import ADMIN, CLIENT, ROOT, Service, service_env

pytestmark = pytest.mark.e2e

COMMUNITIES = 20
WEBHOOK_SECRET = "batch webhook secret"
# The platform (tenant `dev`) submits; the operator (an admin key) regenerates its communities.


@pytest.fixture(scope="module")
def service(
    redis_url: str, s3_server: S3Server, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Service]:
    env = service_env(
        redis_url,
        s3_server,
        "docgen-batches",
        webhook_secret=WEBHOOK_SECRET,
        # A killed worker's messages come back after 5 s instead of 60 s.
        redelivery_after="5",
    )
    running = Service(env, tmp_path_factory.mktemp("batch-logs"))
    yield running
    running.stop()


def changed_templates(folder: Path) -> Path:
    """A copy of the templates whose 附件1 differs (a new template version)."""
    for path in (ROOT / "doc_templates").iterdir():
        if path.suffix in (".docx", ".json"):
            shutil.copy(path, folder / path.name)
    manifest = json.loads((folder / "manifest.json").read_text("utf-8"))
    entry = manifest["industry_analysis"]
    doc = Document(str(folder / entry["file"]))
    doc.core_properties.comments = "2027 template revision"
    out = io.BytesIO()
    doc.save(out)
    (folder / entry["file"]).write_bytes(out.getvalue())
    entry["sha256"] = hashlib.sha256(out.getvalue()).hexdigest()
    entry["version"] += 1
    (folder / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False), "utf-8")
    return folder


def wait_for_batch(url: str, batch_id: str, timeout_s: float = 300) -> dict[str, Any]:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        batch: dict[str, Any] = httpx.get(
            f"{url}/v1/batches/{batch_id}", headers=ADMIN, timeout=10
        ).json()
        if batch["total"] and batch["running"] == 0 and batch["queued"] == 0:
            return batch
        time.sleep(0.5)  # polling interval
    raise TimeoutError(f"batch {batch_id}: {batch}")


def versions(url: str, community_id: str) -> list[int]:
    listed = httpx.get(
        f"{url}/v1/communities/{community_id}/documents/industry_analysis/versions",
        params={"year": 2026},
        headers=CLIENT,
        timeout=10,
    ).json()["versions"]
    return [v["version"] for v in listed]


@pytest.fixture(scope="module")
def stored(service: Service, sample_bytes: bytes) -> list[str]:
    """20 communities submitted once (附件1 only), as the year's platforms did."""
    ids = [f"batch-community-{n:02d}" for n in range(COMMUNITIES)]
    locations = []
    for n, community_id in enumerate(ids):
        body = json.loads(sample_bytes)
        body["community_id"] = community_id
        body["attachments"] = ["industry_analysis"]
        body["notify"] = None
        body["industry_analysis"]["trends"] += f"（第{n + 1}个共同体）"
        if n % 2:  # half of them recommended by another province, their lead enterprise's
            body["community"]["recommending_province"] = "北京市"
            body["community"]["lead_enterprise"]["province"] = "北京市"
        answer = httpx.post(f"{service.url}/v1/jobs", json=body, headers=CLIENT, timeout=30)
        assert answer.status_code == 202, answer.text
        locations.append(answer.headers["location"])

    def all_done() -> bool:
        return all(
            httpx.get(loc, headers=CLIENT, timeout=5).json()["status"] == "succeeded"
            for loc in locations
        )

    wait_until(all_done, 300, "the stored communities")
    return ids


def test_a_batch_over_stored_communities_completes_and_a_second_run_reuses_everything(
    service: Service, stored: list[str]
) -> None:
    request = {
        "year": 2026,
        "tenant": "dev",
        "filter": {"community_ids": stored},
        "reason": "年度复核",
    }
    started = httpx.post(f"{service.url}/v1/batches", json=request, headers=ADMIN, timeout=30)
    assert started.status_code == 202, started.text
    first = wait_for_batch(service.url, started.json()["id"])
    assert (first["state"], first["total"], first["failed"]) == ("finished", COMMUNITIES, 0)
    assert first["reused"] == COMMUNITIES  # nothing changed since the jobs
    second = wait_for_batch(
        service.url,
        httpx.post(f"{service.url}/v1/batches", json=request, headers=ADMIN).json()["id"],
    )
    assert (second["reused"], second["done"]) == (COMMUNITIES, 0)


def test_a_changed_template_regenerates_all_even_when_the_worker_is_killed_midway(
    service: Service,
    stored: list[str],
    webhooks: WebhookReceiver,
    tmp_path: Path,
) -> None:
    templates = changed_templates(tmp_path)
    assert service.worker is not None
    service.worker.stop()
    service.start_worker(templates, "worker-new-template")
    request = {
        "year": 2026,
        "tenant": "dev",
        "filter": {"community_ids": stored},
        "reason": "模板修订",
        "webhook_url": webhooks.url,
    }
    batch_id = httpx.post(f"{service.url}/v1/batches", json=request, headers=ADMIN).json()["id"]

    def some_done() -> bool:
        return httpx.get(f"{service.url}/v1/batches/{batch_id}", headers=ADMIN).json()["done"] >= 3

    wait_until(some_done, 120, "the batch under way")
    assert service.worker is not None
    service.kill_worker()
    service.start_worker(templates, "worker-after-crash")
    batch = wait_for_batch(service.url, batch_id)
    assert batch["state"] == "finished" and batch["failed"] == 0
    assert batch["done"] + batch["reused"] == COMMUNITIES
    # Every community got exactly one new version: none forgotten, none made twice.
    assert {c: versions(service.url, c) for c in stored} == {c: [1, 2] for c in stored}
    # One signed call when the batch ended, not one per document.
    wait_until(
        lambda: any(json.loads(b)["batch"]["id"] == batch_id for _, b in webhooks.calls),
        60,
        "the batch webhook",
    )
    calls = [(h, b) for h, b in webhooks.calls if json.loads(b)["batch"]["id"] == batch_id]
    assert len(calls) == 1
    headers, body = calls[0]
    assert verify(headers["X-Docgen-Signature"], body, WEBHOOK_SECRET.encode())
    assert json.loads(body)["event"] == "batch.finished"


def test_a_province_filter_and_cancelling_a_forced_batch(
    service: Service, stored: list[str]
) -> None:
    request = {
        "year": 2026,
        "tenant": "dev",
        "filter": {"provinces": ["北京市"], "community_ids": stored},
        "force": True,
    }
    started = httpx.post(f"{service.url}/v1/batches", json=request, headers=ADMIN).json()
    assert started["communities"] == COMMUNITIES // 2
    cancelled = httpx.post(f"{service.url}/v1/batches/{started['id']}/cancel", headers=ADMIN).json()
    assert cancelled["state"] == "cancelled"
    batch = wait_for_batch(service.url, started["id"])
    assert batch["state"] == "cancelled" and batch["failed"] >= 1
    assert batch["done"] + batch["failed"] == COMMUNITIES // 2
    failures = httpx.get(
        f"{service.url}/v1/batches/{started['id']}/failures", headers=ADMIN
    ).json()["failures"]
    assert {f["code"] for f in failures} == {"batch.cancelled"}
    csv_text = httpx.get(
        f"{service.url}/v1/batches/{started['id']}/failures",
        params={"format": "csv"},
        headers=ADMIN,
    ).text
    assert csv_text.lstrip("\ufeff").startswith("community_id,attachment,code")
    assert csv_text.count("batch.cancelled") == len(failures)
