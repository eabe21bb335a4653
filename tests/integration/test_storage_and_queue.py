"""Object storage on a real SeaweedFS (with identities) and job records on a real Redis."""

from __future__ import annotations

import datetime as dt
import threading
import urllib.error
import urllib.parse
import urllib.request

import pytest
import redis

from docgen.jobs import DocumentRecord, JobRecord, RedisJobStore
from docgen.objectstore import S3Store
from docgen.settings import S3Settings
from docgen.storage import RedisVersionCounter
from docgen.validation import check_job_request
from tests.conftest import S3Server

pytestmark = pytest.mark.integration


def s3_store(server: S3Server, secret_key: str | None = None) -> S3Store:
    settings = S3Settings(
        server.endpoint,
        server.endpoint,
        server.access_key,
        secret_key or server.secret_key,
        "docgen-it",
        "us-east-1",
        False,
    )
    return S3Store(settings)


@pytest.fixture(scope="module")
def store(s3_server: S3Server) -> S3Store:
    s3 = s3_store(s3_server)
    s3.ensure_bucket()
    return s3


def test_objects_round_trip_under_chinese_keys(store: S3Store) -> None:
    key = "default/communities/c1/2026/application/v1/附件5-行业产教融合共同体申报书.pdf"
    store.put(key, b"%PDF-1.7 test", "application/pdf")
    assert store.get(key) == b"%PDF-1.7 test"
    assert list(store.list("default/communities/c1/")) == [key]
    assert store.get("default/missing") is None


def test_a_download_link_carries_the_chinese_file_name(store: S3Store) -> None:
    key = "default/t/a.pdf"
    store.put(key, b"%PDF-1.7 body", "application/pdf")
    url = store.download_url(key, "附件1-行业发展分析报告.pdf", dt.timedelta(minutes=5))
    with urllib.request.urlopen(url) as response:
        assert response.read() == b"%PDF-1.7 body"
        disposition = response.headers["Content-Disposition"]
    assert "filename*=UTF-8''" + urllib.parse.quote("附件1-行业发展分析报告.pdf") in disposition


def test_anonymous_requests_are_refused(store: S3Store, s3_server: S3Server) -> None:
    store.put("default/t/secret.pdf", b"%PDF", "application/pdf")
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(f"http://{s3_server.endpoint}/docgen-it/default/t/secret.pdf")
    assert refused.value.code == 403


def test_a_wrong_secret_is_refused(s3_server: S3Server) -> None:
    from docgen.errors import DocgenError

    with pytest.raises(DocgenError):
        s3_store(s3_server, secret_key="not-the-secret").get("default/t/a.pdf")


def test_job_records_round_trip_in_redis(redis_url: str) -> None:
    jobs = RedisJobStore(redis.Redis.from_url(redis_url))
    job = JobRecord(
        "j-it-1",
        "default",
        "c1",
        2026,
        dt.datetime(2026, 5, 1, tzinfo=dt.UTC),
        "default/inputs/x.json",
        ("industry_analysis", "application"),
    )
    jobs.create(job)
    jobs.put_document(job.id, DocumentRecord("application", "succeeded", version=2))
    found = jobs.get(job.id)
    assert found is not None
    assert found[0] == job
    assert [(d.attachment, d.status, d.version) for d in found[1]] == [
        ("industry_analysis", "queued", None),
        ("application", "succeeded", 2),
    ]
    assert jobs.get("nope") is None


def test_warnings_and_indicators_are_kept_with_the_job_in_redis(
    redis_url: str, sample_bytes: bytes
) -> None:
    verdict = check_job_request(sample_bytes.replace(b'"2026-03-20"', b'"2026-04-20"', 1))
    assert verdict.request is not None and verdict.indicators is not None
    assert [w.code for w in verdict.warnings] == ["date.outside_calendar"]
    jobs = RedisJobStore(redis.Redis.from_url(redis_url))
    job = JobRecord(
        "j-it-2",
        "default",
        "c1",
        2026,
        dt.datetime(2026, 5, 1, tzinfo=dt.UTC),
        "default/inputs/y.json",
        ("application",),
        warnings=tuple(verdict.warnings),
        indicators=verdict.indicators,
    )
    jobs.create(job)
    found = jobs.get(job.id)
    assert found is not None and found[0] == job


def test_version_numbers_are_unique_under_concurrency(redis_url: str) -> None:
    counter = RedisVersionCounter(redis.Redis.from_url(redis_url), namespace="it-versions")
    numbers: list[int] = []
    lock = threading.Lock()

    def take() -> None:
        for _ in range(20):
            n = counter.next_version("default/communities/c2/2026/application/", 0)
            with lock:
                numbers.append(n)

    threads = [threading.Thread(target=take) for _ in range(5)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(numbers) == list(range(1, 101))


def test_a_counter_behind_storage_never_reuses_a_stored_version(redis_url: str) -> None:
    counter = RedisVersionCounter(redis.Redis.from_url(redis_url), namespace="it-lost")
    # Redis lost its data while storage holds v1..v7: the next version must be 8.
    assert counter.next_version("p/", 7) == 8
    assert counter.next_version("p/", 7) == 9


def test_a_retried_write_of_one_document_keeps_its_version_number(redis_url: str) -> None:
    # A worker killed between taking a number and completing the version: its retry must
    # write the same version, not leave a gap (seen once as versions 1 and 3).
    counter = RedisVersionCounter(redis.Redis.from_url(redis_url), namespace="it-reserve")
    first = counter.reserve("t/communities/c9/2026/application/", "identity-a", 1)
    again = counter.reserve("t/communities/c9/2026/application/", "identity-a", 1)
    other = counter.reserve("t/communities/c9/2026/application/", "identity-b", 1)
    assert (first, again, other) == (2, 2, 3)


def test_a_reservation_storage_has_overtaken_is_replaced_once(redis_url: str) -> None:
    # Storage holds up to v5 while this identity still holds number 2 (Redis rolled back).
    counter = RedisVersionCounter(redis.Redis.from_url(redis_url), namespace="it-stale")
    prefix = "t/communities/c9/2026/application/"
    assert counter.reserve(prefix, "identity-a", 1) == 2
    assert counter.reserve(prefix, "identity-a", 5) == 6
    assert counter.reserve(prefix, "identity-a", 0) == 6  # the replacement is kept
    assert counter.reserve(prefix, "identity-b", 0) == 7


def test_removed_objects_are_gone_and_listings_carry_their_write_times(store: S3Store) -> None:
    keys = [f"erase/c1/2026/v1/{n}.pdf" for n in range(3)]
    before = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5)  # the server's clock may differ
    for key in keys:
        store.put(key, b"%PDF", "application/pdf")
    dated = {obj.key: obj.modified for obj in store.list_objects("erase/")}
    assert sorted(dated) == keys
    assert all(moment > before for moment in dated.values())
    store.delete([*keys[:2], "erase/never-existed.pdf"])
    assert list(store.list("erase/")) == keys[2:]


def test_forgetting_a_prefix_resets_its_numbering_and_reservations_only(redis_url: str) -> None:
    counter = RedisVersionCounter(redis.Redis.from_url(redis_url), namespace="it-forget")
    erased, kept = "t/communities/c1/2026/application/", "t/communities/c1/2027/application/"
    for prefix in (erased, kept):
        assert counter.reserve(prefix, "identity-a", 0) == 1
        assert counter.reserve(prefix, "identity-b", 0) == 2
    counter.forget(erased)
    assert counter.reserve(erased, "identity-b", 0) == 1
    assert counter.reserve(kept, "identity-b", 0) == 2


def test_a_deleted_job_is_gone_from_its_tenants_list(redis_url: str) -> None:
    jobs = RedisJobStore(redis.Redis.from_url(redis_url), prefix="it-delete")
    created = dt.datetime(2026, 5, 1, tzinfo=dt.UTC)
    for n, tenant in enumerate(("prov-a", "prov-a", "prov-b")):
        jobs.create(JobRecord(f"j{n}", tenant, "c1", 2026, created, "k", ("application",)))
    assert jobs.tenants() == ["prov-a", "prov-b"]
    many = jobs.get_many(["j2", "nope", "j0"])  # one round trip, in the order asked
    assert [found[0].id if found else None for found in many] == ["j2", None, "j0"]
    found = jobs.get("j0")
    assert found is not None
    jobs.delete(found[0])
    assert jobs.get("j0") is None
    assert [job_id for job_id, _ in jobs.tenant_jobs("prov-a", None, None, 0, 10)] == ["j1"]
