"""The reconciler against a real Redis and dramatiq worker: a lost queue and a lost finishing.

The converter and S3 are in-memory stand-ins (what is tested is the queue, not the documents);
each test has its own broker namespace and tenant, so the shared Redis's other jobs stay apart.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator

import dramatiq
import msgspec
import pytest
import redis
from dramatiq.brokers.redis import RedisBroker
from dramatiq.middleware import CurrentMessage

from doc_templates import TEMPLATES_DIR
from docgen.fsck import check_store
from docgen.jobs import JobRecord, RedisJobStore, job_status, utcnow
from docgen.metrics import MemoryCounters
from docgen.objectstore import MemoryStore
from docgen.pipeline import Workshop, produce_document
from docgen.processes import wait_until
from docgen.queue import (
    BATCH_QUEUE,
    NOTIFY_QUEUE,
    RENDER_QUEUE,
    DramatiqEnqueuer,
    RedisPendingMessages,
)
from docgen.reconcile import Reconciled, reconcile
from docgen.schema import JobRequest
from docgen.settings import load_settings
from docgen.storage import RedisVersionCounter, document_prefix, input_key, versions
from docgen.templates import load_catalogue
from tests.fakes import CountingConverter
from workers.main import register_actors

pytestmark = pytest.mark.integration

ATTACHMENTS = ("industry_analysis", "application")


class Rig(msgspec.Struct):
    client: redis.Redis
    namespace: str
    jobs: RedisJobStore
    store: MemoryStore
    workshop: Workshop
    enqueuer: DramatiqEnqueuer
    messages: RedisPendingMessages
    worker: dramatiq.Worker


@pytest.fixture
def rig(redis_url: str) -> Iterator[Rig]:
    namespace = f"reconcile-{uuid.uuid4().hex[:8]}"
    client = redis.Redis.from_url(redis_url)
    broker = RedisBroker(url=redis_url, namespace=namespace)
    broker.add_middleware(CurrentMessage())
    jobs, store = RedisJobStore(client), MemoryStore()
    workshop = Workshop(
        jobs,
        store,
        CountingConverter(),
        load_catalogue(TEMPLATES_DIR),
        RedisVersionCounter(client, namespace=namespace),
    )
    enqueuer = DramatiqEnqueuer(broker)
    settings = load_settings({"DOCGEN_LINK_SECRET": "x" * 32})
    register_actors(broker, workshop, settings, enqueuer, MemoryCounters())
    worker = dramatiq.Worker(broker, queues={RENDER_QUEUE, NOTIFY_QUEUE}, worker_threads=1)
    messages = RedisPendingMessages(client, (RENDER_QUEUE, BATCH_QUEUE, NOTIFY_QUEUE), namespace)
    yield Rig(client, namespace, jobs, store, workshop, enqueuer, messages, worker)
    worker.stop()
    broker.close()


def new_job(rig: Rig, request: JobRequest) -> JobRecord:
    tenant = f"t{uuid.uuid4().hex[:8]}"
    job = JobRecord(
        id=uuid.uuid4().hex,
        tenant=tenant,
        community_id=request.community_id,
        year=request.year,
        created_at=utcnow() - dt.timedelta(minutes=10),
        input_key=input_key(tenant, "sample"),
        attachments=ATTACHMENTS,
        notify_emails=("submitter@example.cn",),
    )
    rig.store.put(job.input_key, msgspec.json.encode(request), "application/json")
    rig.jobs.create(job)
    return job


def finished_and_told(rig: Rig, job: JobRecord) -> bool:
    found = rig.jobs.get(job.id)
    delivery = rig.jobs.get_delivery(job.id)
    return (
        found is not None
        and job_status(found[1]) == "succeeded"
        and delivery.bundle is not None
        and len(delivery.notifications) == 1
        and delivery.notifications[0].status != "queued"
    )


def assert_one_version_each(rig: Rig, job: JobRecord) -> None:
    for attachment in ATTACHMENTS:
        prefix = document_prefix(job.tenant, job.community_id, job.year, attachment)
        assert [m.version for m in versions(rig.store, prefix)] == [1]
    report = check_store(rig.store, rig.jobs, tenant=job.tenant, grace=dt.timedelta(0))
    assert report.ok, report.problems


def reconcile_once(rig: Rig, job: JobRecord) -> list[Reconciled]:
    return reconcile(
        rig.jobs, rig.messages, rig.enqueuer, after=dt.timedelta(minutes=1), tenant=job.tenant
    )


def test_a_job_whose_queue_was_lost_completes_once_reconciled(
    rig: Rig, sample_request: JobRequest
) -> None:
    job = new_job(rig, sample_request)
    for attachment in ATTACHMENTS:
        rig.enqueuer.enqueue_document(job.id, attachment)
    assert len(rig.messages.pending()) == 2
    # Redis came back without its queue; the job record (and the input in S3) survived.
    rig.client.delete(f"{rig.namespace}:{RENDER_QUEUE}", f"{rig.namespace}:{RENDER_QUEUE}.msgs")
    rig.worker.start()

    assert reconcile_once(rig, job) == [Reconciled("document", job.id, a) for a in ATTACHMENTS]
    assert reconcile_once(rig, job) == []  # its messages are pending now: nothing twice
    wait_until(lambda: finished_and_told(rig, job), 60, "the reconciled job")

    assert reconcile_once(rig, job) == []
    assert_one_version_each(rig, job)
    # A duplicate of a message (redelivery, or a reconciler racing a slow worker) changes nothing.
    rig.enqueuer.enqueue_document(job.id, ATTACHMENTS[0])
    wait_until(lambda: not rig.messages.pending(), 30, "the duplicate message")
    assert_one_version_each(rig, job)


def test_a_finishing_lost_after_its_claim_is_run_by_the_reconciler(
    rig: Rig, sample_request: JobRequest
) -> None:
    job = new_job(rig, sample_request)
    for attachment in ATTACHMENTS:
        produce_document(rig.workshop, job.id, attachment)  # type: ignore[arg-type]
    # The last worker claimed the finishing, then died before enqueueing finish_job.
    assert rig.jobs.claim_finish(job.id)
    rig.worker.start()
    # Recorded just now: not yet taken for lost.
    assert reconcile(rig.jobs, rig.messages, rig.enqueuer, tenant=job.tenant) == []

    later = utcnow() + dt.timedelta(minutes=10)
    found = reconcile(rig.jobs, rig.messages, rig.enqueuer, tenant=job.tenant, now=later)
    assert found == [Reconciled("finish", job.id, "finish")]
    wait_until(lambda: finished_and_told(rig, job), 60, "the job's finishing")
    assert reconcile(rig.jobs, rig.messages, rig.enqueuer, tenant=job.tenant, now=later) == []
    assert_one_version_each(rig, job)
