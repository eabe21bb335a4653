"""Keys, tenants and limits at the API's door (in-memory stores; the real path is in tests/e2e)."""

from __future__ import annotations

from typing import Any

import pytest
from litestar.testing import TestClient

from docgen.jobs import DocumentRecord
from docgen.keys import DEV_KEYS, KeyRing, hash_key, parse_key_lines
from docgen.limits import MemoryLimitStore, TenantLimits, admit_job
from docgen.settings import LimitSettings, SettingsError, load_settings, require_api_keys
from docgen.storage import MemoryVersionCounter, document_prefix, store_version
from service.app import create_app
from tests.fakes import ApiFakes as Fakes
from tests.fakes import manifest_fields
from tests.unit.conftest import ADMIN, NO_KEY, OTHER, TEST_ENV


def _post(client: TestClient[Any], body: bytes, headers: dict[str, str] | None = None) -> str:
    response = client.post("/v1/jobs", content=body, headers=headers)
    assert response.status_code == 202, response.text
    job_id: str = response.json()["id"]
    return job_id


def _finish(fakes: Fakes, job_id: str) -> None:
    for attachment in fakes.jobs.jobs[job_id].attachments:
        fakes.jobs.put_document(
            job_id,
            DocumentRecord(attachment, "succeeded", version=1, pdf_key=f"{job_id}.pdf"),
        )


def _store_a_version(fakes: Fakes, tenant: str, community_id: str, year: int) -> None:
    store_version(
        fakes.store,
        MemoryVersionCounter(),
        document_prefix(tenant, community_id, year, "application"),
        "申报书",
        b"docx",
        b"%PDF",
        manifest_fields("i"),
    )


def test_without_a_key_or_with_a_wrong_one_the_api_answers_401_problems(
    client: TestClient[Any],
) -> None:
    for headers, code in (
        (NO_KEY, "auth.missing"),
        ({"Authorization": "Bearer nope"}, "auth.invalid"),
        ({"Authorization": "", "X-API-Key": "nope"}, "auth.invalid"),
    ):
        answer = client.get("/v1/jobs/x", headers=headers)
        assert answer.status_code == 401, headers
        assert answer.headers["content-type"] == "application/problem+json"
        assert answer.json()["errors"][0]["code"] == code
    assert client.post("/v1/batches", json={"year": 2026}, headers=NO_KEY).status_code == 401


def test_health_ready_schema_and_shared_links_need_no_key(client: TestClient[Any]) -> None:
    for path in ("/health", "/ready", "/schema/openapi.json"):
        assert client.get(path, headers=NO_KEY).status_code == 200, path
    # A forged token is refused by its signature, not by the missing key.
    assert client.get("/v1/shared/forged", headers=NO_KEY).status_code == 403


def test_another_tenants_job_and_its_downloads_are_404(
    client: TestClient[Any], fakes: Fakes, sample_bytes: bytes
) -> None:
    job_id = _post(client, sample_bytes)
    _finish(fakes, job_id)
    fakes.jobs.put_bundle(job_id, _bundle(job_id))
    paths = (
        f"/v1/jobs/{job_id}",
        f"/v1/jobs/{job_id}/indicators",
        f"/v1/jobs/{job_id}/documents/application/pdf",
        f"/v1/jobs/{job_id}/bundle/pdf",
    )
    for path in paths:
        assert client.get(path, follow_redirects=False).status_code in (200, 302), path
        stranger = client.get(path, headers={**NO_KEY, **OTHER}, follow_redirects=False)
        assert stranger.status_code == 404, path
        assert client.get(path, headers=ADMIN, follow_redirects=False).status_code in (200, 302)


def _bundle(job_id: str) -> Any:
    from docgen.jobs import BundleRecord

    return BundleRecord(f"{job_id}/b.pdf", f"{job_id}/b.zip", ("application",))


def test_another_tenants_community_and_versions_are_not_seen(
    client: TestClient[Any], fakes: Fakes
) -> None:
    _store_a_version(fakes, "dev", "c1", 2026)
    listing = "/v1/communities/c1/documents?year=2026"
    history = "/v1/communities/c1/documents/application/versions?year=2026"
    one = "/v1/communities/c1/documents/application/versions/1/pdf?year=2026"
    assert len(client.get(listing).json()["documents"]) == 1
    assert len(client.get(history).json()["versions"]) == 1
    assert client.get(one, follow_redirects=False).status_code == 302

    other = {**NO_KEY, **OTHER}
    assert client.get(listing, headers=other).json()["documents"] == []
    assert client.get(history, headers=other).json()["versions"] == []
    assert client.get(one, headers=other, follow_redirects=False).status_code == 404
    # Naming the tenant does not help a client: it still reads only its own.
    assert client.get(f"{one}&tenant=dev", headers=other, follow_redirects=False).status_code == 404
    # An operator reads any tenant's, by naming it.
    admin_one = client.get(f"{one}&tenant=dev", headers=ADMIN, follow_redirects=False)
    assert admin_one.status_code == 302


def test_a_client_key_gets_403_on_admin_routes(client: TestClient[Any]) -> None:
    for method, path in (
        ("POST", "/v1/batches"),
        ("GET", "/v1/batches/b1"),
        ("GET", "/v1/batches/b1/failures"),
        ("POST", "/v1/batches/b1/cancel"),
    ):
        answer = client.request(method, path, json={"year": 2026})
        assert answer.status_code == 403, path
        assert answer.json()["errors"][0]["code"] == "auth.forbidden"
    assert client.get("/v1/batches/b1", headers=ADMIN).status_code == 404


def test_a_batch_regenerates_the_named_tenants_communities(
    client: TestClient[Any], fakes: Fakes, sample_bytes: bytes
) -> None:
    _finish(fakes, _post(client, sample_bytes))
    mine = client.post("/v1/batches", json={"year": 2026, "tenant": "dev"}, headers=ADMIN).json()
    assert mine["communities"] == 1
    none = client.post("/v1/batches", json={"year": 2026, "tenant": "other"}, headers=ADMIN)
    assert none.json()["communities"] == 0


def test_the_rate_limit_answers_429_with_retry_after(
    fakes: Fakes, sample_bytes: bytes, glyphs: Any
) -> None:
    env = {**TEST_ENV, "DOCGEN_RATE_LIMIT_PER_MINUTE": "2"}
    with TestClient(create_app(load_settings(env), fakes.services)) as client:
        client.headers.update({"Authorization": "Bearer dev-client-key"})
        for _ in range(2):
            assert client.post("/v1/jobs", content=sample_bytes).status_code == 202
        refused = client.post("/v1/jobs", content=sample_bytes)
        assert refused.status_code == 429
        assert 1 <= int(refused.headers["retry-after"]) <= 60
        assert refused.json()["errors"][0]["code"] == "rate.limited"
        # Per tenant: another platform is not held back by this one.
        assert (
            client.post("/v1/jobs", content=sample_bytes, headers={**NO_KEY, **OTHER}).status_code
            == 202
        )


def test_open_jobs_are_capped_per_tenant_and_finished_ones_make_room(
    fakes: Fakes, sample_bytes: bytes
) -> None:
    env = {**TEST_ENV, "DOCGEN_MAX_OPEN_JOBS": "2"}
    with TestClient(create_app(load_settings(env), fakes.services)) as client:
        client.headers.update({"Authorization": "Bearer dev-client-key"})
        first = _post(client, sample_bytes)
        _post(client, sample_bytes)
        refused = client.post("/v1/jobs", content=sample_bytes)
        assert refused.status_code == 429
        assert refused.json()["errors"][0]["code"] == "jobs.too_many_open"
        assert "retry-after" in refused.headers
        _finish(fakes, first)
        assert client.post("/v1/jobs", content=sample_bytes).status_code == 202


def test_the_rate_window_resets_on_the_next_minute() -> None:
    limits, store = LimitSettings(jobs_per_minute=1, max_open_jobs=10), MemoryLimitStore()
    from docgen.jobs import MemoryJobStore

    jobs = MemoryJobStore()
    admit_job(limits, store, jobs, "t", clock=lambda: 120.0)
    with pytest.raises(TenantLimits) as caught:
        admit_job(limits, store, jobs, "t", clock=lambda: 150.0)
    assert caught.value.retry_after_s == 30
    admit_job(limits, store, jobs, "t", clock=lambda: 180.0)


def test_a_client_lists_only_its_own_jobs_filtered_and_in_pages(
    client: TestClient[Any], fakes: Fakes, sample_bytes: bytes
) -> None:
    mine = [_post(client, sample_bytes) for _ in range(5)]
    _post(client, sample_bytes, headers={**NO_KEY, **OTHER})
    _finish(fakes, mine[0])
    seen: list[str] = []
    url: str | None = "/v1/jobs?limit=2"
    while url:
        page = client.get(url.removeprefix("https://docs.example.cn")).json()
        assert len(page["jobs"]) <= 2
        seen += [j["id"] for j in page["jobs"]]
        url = page["links"]["next"]
    assert sorted(seen) == sorted(mine)
    finished = client.get("/v1/jobs?status=succeeded").json()["jobs"]
    assert [j["id"] for j in finished] == [mine[0]]
    assert client.get("/v1/jobs?year=1999").json()["jobs"] == []
    assert client.get("/v1/jobs?cursor=garbage").status_code == 400


def test_keys_are_read_from_a_file_and_the_environment_hashed(tmp_path: Any) -> None:
    keys = tmp_path / "keys.jsonl"
    keys.write_text(
        "# platform keys\n"
        f'{{"id": "p1", "tenant": "gd", "role": "client", "sha256": "{hash_key("s1")}"}}\n',
        "utf-8",
    )
    settings = load_settings(
        {
            "DOCGEN_API_KEYS_FILE": str(keys),
            "DOCGEN_API_KEYS": f'[{{"id": "ops", "tenant": "ops", "role": "admin", '
            f'"sha256": "{hash_key("s2")}"}}]',
        }
    )
    ring = KeyRing(settings.api_keys)
    caller = ring.identify("s1")
    assert caller is not None and (caller.tenant, caller.role) == ("gd", "client")
    assert ring.identify("s2") is not None and ring.identify("s3") is None
    with pytest.raises(SettingsError):
        require_api_keys(load_settings({}))


def test_bad_key_configuration_names_every_problem(tmp_path: Any) -> None:
    _, problems = parse_key_lines(
        '{"id": "a"}\n{"id":"b","tenant":"A/B","role":"client","sha256":"xyz"}\n', "f"
    )
    assert len(problems) == 3
    with pytest.raises(SettingsError) as caught:
        load_settings({"DOCGEN_API_KEYS_FILE": str(tmp_path / "missing"), "DOCGEN_API_KEYS": "["})
    assert len(caught.value.problems) == 2
    assert all(len(k.sha256) == 64 for k in DEV_KEYS)
