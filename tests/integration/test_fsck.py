"""`docgen fsck` as a command against a real SeaweedFS and Redis: finds, repairs, exits 0/1."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import msgspec
import pytest
import redis

from docgen.jobs import BundleRecord, DocumentRecord, JobRecord, RedisJobStore
from docgen.objectstore import S3Store
from docgen.settings import S3Settings
from docgen.storage import RedisVersionCounter, document_prefix, store_version
from tests.conftest import S3Server

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
BUCKET = "fsck-it"


def fsck(redis_url: str, s3: S3Server, *args: str) -> tuple[int, dict[str, Any]]:
    env = {
        **os.environ,
        "DOCGEN_REDIS_URL": redis_url,
        "DOCGEN_S3_ENDPOINT": s3.endpoint,
        "DOCGEN_S3_ACCESS_KEY": s3.access_key,
        "DOCGEN_S3_SECRET_KEY": s3.secret_key,
        "DOCGEN_S3_BUCKET": BUCKET,
    }
    done = subprocess.run(
        [sys.executable, "-m", "commands.main", "fsck", "--json", *args],
        env=env,
        cwd=ROOT,
        capture_output=True,
        timeout=120,
        check=False,
    )
    assert done.returncode in (0, 1) and done.stdout, done.stderr.decode()
    report: dict[str, Any] = msgspec.json.decode(done.stdout)
    return done.returncode, report


def test_fsck_finds_a_half_written_version_repairs_it_and_then_a_corrupt_file(
    redis_url: str, s3_server: S3Server
) -> None:
    tenant = f"fsck{uuid.uuid4().hex[:8]}"  # the shared Redis holds other tests' jobs too
    store = S3Store(
        S3Settings(
            s3_server.endpoint,
            s3_server.endpoint,
            s3_server.access_key,
            s3_server.secret_key,
            BUCKET,
            "us-east-1",
            False,
        )
    )
    store.ensure_bucket()
    client = redis.Redis.from_url(redis_url)
    prefix = document_prefix(tenant, "c-1", 2026, "industry_analysis")
    files = store_version(
        store,
        RedisVersionCounter(client, namespace=tenant),
        prefix,
        "附件1-行业发展分析报告",
        b"docx bytes",
        b"%PDF bytes",
        {
            "job_id": "j1",
            "created_at": dt.datetime.now(dt.UTC),
            "identity": "a" * 64,
            "input_sha256": "0" * 64,
            "template_id": "industry_analysis",
            "template_version": 1,
            "template_sha256": "1" * 64,
            "docxtpl_version": "0.20.2",
            "pages": 1,
        },
    )
    store.put(f"{tenant}/inputs/in.json", b"{}", "application/json")
    jobs = RedisJobStore(client)
    job_id = uuid.uuid4().hex
    jobs.create(
        JobRecord(
            id=job_id,
            tenant=tenant,
            community_id="c-1",
            year=2026,
            created_at=dt.datetime.now(dt.UTC),
            input_key=f"{tenant}/inputs/in.json",
            attachments=("industry_analysis",),
        )
    )
    jobs.put_document(
        job_id,
        DocumentRecord(
            "industry_analysis",
            "succeeded",
            version=files.version,
            pdf_key=files.pdf_key,
            docx_key=files.docx_key,
            finished_at=dt.datetime.now(dt.UTC),
        ),
    )
    bundle = BundleRecord(f"{tenant}/b/all.pdf", f"{tenant}/b/all.zip", ("industry_analysis",))
    store.put(bundle.pdf_key, b"%PDF", "application/pdf")
    store.put(bundle.zip_key, b"PK", "application/zip")
    jobs.put_bundle(job_id, bundle)
    # A worker died after writing the DOCX of v2.
    store.put(f"{prefix}v2/附件1-行业发展分析报告.docx", b"half", "application/octet-stream")

    code, report = fsck(redis_url, s3_server, "--tenant", tenant)
    assert code == 1
    assert [(p["code"], p["key"]) for p in report["problems"]] == [
        ("fsck.version_incomplete", f"{prefix}v2/")
    ]
    assert report["checked"]["jobs"] == 1 and report["checked"]["files"] == 2

    code, report = fsck(redis_url, s3_server, "--tenant", tenant, "--repair", "--grace", "0")
    assert code == 0, report
    assert [r["code"] for r in report["repaired"]] == ["fsck.incomplete_removed"]
    assert list(store.list(f"{prefix}v2/")) == []

    store.put(files.pdf_key, b"%PDF bytez", "application/pdf")  # same size, other bytes
    code, report = fsck(redis_url, s3_server, "--tenant", tenant)
    assert code == 1
    assert [(p["code"], p["key"]) for p in report["problems"]] == [
        ("fsck.file_checksum", files.pdf_key)
    ]
