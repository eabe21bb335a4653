"""The API's answers, with in-memory stores behind it (the real path is in tests/e2e)."""

from __future__ import annotations

import json
from typing import Any

import msgspec
import redis
from litestar.testing import TestClient

from docgen.errors import DocgenError
from docgen.jobs import DocumentRecord, JobRecord, MemoryJobStore
from docgen.queue import ENQUEUE_ORDER
from docgen.schema import ATTACHMENT_IDS
from docgen.settings import load_settings
from service.app import create_app
from tests.fakes import ApiFakes as Fakes
from tests.unit.conftest import CLIENT, TEST_ENV

AUTH = {"Authorization": "Bearer dev-client-key"}


def test_posting_the_sample_records_the_job_and_enqueues_ids_only(
    client: TestClient[Any], fakes: Fakes, sample_bytes: bytes
) -> None:
    response = client.post("/v1/jobs", content=sample_bytes, headers=AUTH)
    assert response.status_code == 202
    body = response.json()
    assert response.headers["location"] == f"https://docs.example.cn/v1/jobs/{body['id']}"
    assert body["links"]["self"] == response.headers["location"]
    assert body["status"] == "queued"
    assert [d["attachment"] for d in body["documents"]] == list(ATTACHMENT_IDS)
    # The longest documents first, so that a job does not end with one long conversion alone.
    assert fakes.enqueuer.messages == [(body["id"], a) for a in ENQUEUE_ORDER]
    assert sorted(ENQUEUE_ORDER) == sorted(ATTACHMENT_IDS)
    job, _ = fakes.jobs.get(body["id"]) or (None, None)
    assert job is not None and fakes.store.get(job.input_key) is not None


def test_a_job_reports_each_document_with_absolute_links(
    client: TestClient[Any], fakes: Fakes, sample_bytes: bytes
) -> None:
    job_id = client.post("/v1/jobs", content=sample_bytes).json()["id"]
    fakes.jobs.put_document(
        job_id,
        DocumentRecord(
            "application", "succeeded", version=3, pages=7, pdf_key="k.pdf", docx_key="k.docx"
        ),
    )
    body = client.get(f"/v1/jobs/{job_id}").json()
    doc = next(d for d in body["documents"] if d["attachment"] == "application")
    assert doc["version"] == 3 and doc["pages"] == 7
    assert doc["pdf_url"] == f"https://docs.example.cn/v1/jobs/{job_id}/documents/application/pdf"
    assert body["status"] == "running"
    redirect = client.get(
        doc["pdf_url"].removeprefix("https://docs.example.cn"), follow_redirects=False
    )
    assert redirect.status_code == 302
    assert redirect.headers["location"] == "memory://k.pdf?filename=stem-application.pdf"


def test_a_document_not_yet_produced_has_no_download(
    client: TestClient[Any], sample_bytes: bytes
) -> None:
    job_id = client.post("/v1/jobs", content=sample_bytes).json()["id"]
    response = client.get(f"/v1/jobs/{job_id}/documents/application/pdf", follow_redirects=False)
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"


def test_malformed_json_is_a_400_problem(client: TestClient[Any]) -> None:
    response = client.post("/v1/jobs", content=b'{"community_id": ', headers=AUTH)
    assert response.status_code == 400
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["status"] == 400 and body["errors"][0]["code"] == "json.malformed"


def test_a_wrong_type_is_a_422_naming_the_path(
    client: TestClient[Any], sample_dict: dict[str, Any]
) -> None:
    sample_dict["application"]["plan"]["core_courses"][1] = "x"
    response = client.post("/v1/jobs", content=json.dumps(sample_dict), headers=AUTH)
    assert response.status_code == 422
    body = response.json()
    assert {"type", "title", "status", "detail", "errors"} <= body.keys()
    assert body["errors"][0]["path"] == "application.plan.core_courses[1]"
    assert body["errors"][0]["message"] and body["errors"][0]["message_en"]


def test_a_body_over_32_mib_is_a_413(client: TestClient[Any]) -> None:
    response = client.post("/v1/jobs", content=b" " * (32 * 1024 * 1024 + 1), headers=AUTH)
    assert response.status_code == 413
    assert response.json()["errors"][0]["code"] == "body.too_large"


def test_an_unknown_job_is_a_404_problem(client: TestClient[Any]) -> None:
    response = client.get("/v1/jobs/does-not-exist")
    assert response.status_code == 404
    assert response.json()["errors"][0]["code"] == "job.not_found"


def test_a_queue_outage_is_a_503_with_retry_after(
    client: TestClient[Any], fakes: Fakes, sample_bytes: bytes
) -> None:
    def down(job_id: str, attachment: str) -> None:
        raise DocgenError("queue.unavailable", "任务队列暂不可用", "Queue down", retryable=True)

    fakes.enqueuer.enqueue_document = down  # type: ignore[method-assign]
    response = client.post("/v1/jobs", content=sample_bytes)
    assert response.status_code == 503
    assert response.headers["retry-after"] == "5"


def test_ready_reports_each_dependency(client: TestClient[Any], fakes: Fakes) -> None:
    assert client.get("/ready").status_code == 200
    fakes.s3_up[0] = False
    response = client.get("/ready")
    assert response.status_code == 503
    assert response.json()["checks"]["s3"]["status"] == "down"
    assert response.json()["checks"]["redis"]["status"] == "ok"
    assert client.get("/health").status_code == 200


def test_the_openapi_schema_is_served_with_the_request_body(client: TestClient[Any]) -> None:
    document = client.get("/schema/openapi.json").json()
    for path in ("/v1/jobs", "/v1/validate"):
        body = document["paths"][path]["post"]["requestBody"]["content"]["application/json"]
        assert body["schema"] == {"$ref": "#/components/schemas/JobRequest"}
    schemas = document["components"]["schemas"]
    assert "community" in schemas["JobRequest"]["required"]
    assert schemas["JobRequest"]["additionalProperties"] is False
    assert "/v1/jobs/{job_id}/indicators" in document["paths"]


def test_a_repeated_idempotency_key_answers_the_first_job(
    client: TestClient[Any], fakes: Fakes, sample_bytes: bytes
) -> None:
    key = {"Idempotency-Key": "order-42"}
    first = client.post("/v1/jobs", content=sample_bytes, headers=key)
    again = client.post("/v1/jobs", content=sample_bytes, headers=key)
    assert (first.status_code, again.status_code) == (202, 202)
    assert again.json()["id"] == first.json()["id"]
    assert again.headers["idempotent-replayed"] == "true"
    assert len(fakes.enqueuer.messages) == len(ATTACHMENT_IDS)  # enqueued once


def test_an_idempotency_key_reused_with_other_data_is_refused(
    client: TestClient[Any], sample_dict: dict[str, Any]
) -> None:
    key = {"Idempotency-Key": "order-43"}
    assert client.post("/v1/jobs", json=sample_dict, headers=key).status_code == 202
    sample_dict["year"] = 2027
    refused = client.post("/v1/jobs", json=sample_dict, headers=key)
    assert refused.status_code == 422
    assert refused.json()["errors"][0]["path"] == "Idempotency-Key"
    assert refused.json()["errors"][0]["code"] == "idempotency_key.reused"


def test_a_webhook_to_an_internal_address_is_refused_at_the_door(
    client: TestClient[Any], sample_dict: dict[str, Any]
) -> None:
    sample_dict["notify"] = {"webhook_url": "https://169.254.169.254/latest/meta-data"}
    refused = client.post("/v1/jobs", json=sample_dict)
    assert refused.status_code == 422
    assert [(e["path"], e["code"]) for e in refused.json()["errors"]] == [
        ("notify.webhook_url", "webhook.destination")
    ]


def test_the_job_carries_its_share_link_and_the_link_shows_the_job(
    client: TestClient[Any], sample_bytes: bytes
) -> None:
    body = client.post("/v1/jobs", content=sample_bytes).json()
    share = body["share_url"]
    assert share.startswith("https://docs.example.cn/v1/shared/")
    shown = client.get(share.removeprefix("https://docs.example.cn")).json()
    assert shown["job_id"] == body["id"]
    path = share.removeprefix("https://docs.example.cn")
    forged = client.get(path[:-2] + ("yy" if path.endswith("xx") else "xx"))
    assert forged.status_code == 403


class _UntranslatedRedisJobs(MemoryJobStore):
    """A job store whose Redis error escaped translation (a path that forgot `redis_errors`)."""

    def get(self, job_id: str) -> tuple[JobRecord, list[DocumentRecord]] | None:
        raise redis.ConnectionError("Connection refused")


def test_a_raw_redis_error_is_still_a_503_with_retry_after_never_a_500(
    fakes: Fakes,
) -> None:
    services = msgspec.structs.replace(fakes.services, jobs=_UntranslatedRedisJobs())
    with TestClient(create_app(load_settings(TEST_ENV), services)) as client:
        response = client.get("/v1/jobs/abc", headers=CLIENT)
    assert response.status_code == 503
    assert response.headers["retry-after"]
    assert [e["code"] for e in response.json()["errors"]] == ["queue.unavailable"]
