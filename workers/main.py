"""The worker process's composition root: broker, converter, actors, heartbeat."""

from __future__ import annotations

import datetime as dt
import functools
import gc
import logging
import signal
import socket
import threading
import uuid
from collections.abc import Callable

import dramatiq
import msgspec
import redis
from dramatiq.brokers.redis import RedisBroker
from dramatiq.middleware import CurrentMessage

from docgen.batches import RedisBatchStore
from docgen.convert import Converter, UnoserverConverter
from docgen.delivery import batch_done, deliver, deliver_batch_webhook, finish_job, job_done
from docgen.errors import DocgenError
from docgen.heartbeat import Heartbeat, publish_heartbeat
from docgen.jobs import RedisJobStore, job_status
from docgen.logs import about_job
from docgen.longlists import warm_up
from docgen.metrics import Counters, RedisCounters
from docgen.objectstore import S3Store
from docgen.pipeline import Workshop, produce_document
from docgen.pool import ConverterPool, PoolSettings
from docgen.queue import (
    BATCH_QUEUE,
    DELIVER,
    DELIVER_BATCH,
    FINISH_JOB,
    NOTIFY_QUEUE,
    PRODUCE_BATCH_DOCUMENT,
    PRODUCE_DOCUMENT,
    RENDER_QUEUE,
    DramatiqEnqueuer,
    Enqueuer,
    RedisPendingMessages,
)
from docgen.reconcile import reconcile, take_turn
from docgen.settings import Settings, require_link_secret
from docgen.storage import RedisVersionCounter
from docgen.templates import load_catalogue
from docgen.wakeup import WakingRedisBroker

log = logging.getLogger("docgen.worker")

MAX_RETRIES = (
    5  # transient failures (S3, converter down) back off 1 s → 30 s, then the document fails
)
# The longest an idle render consumer sleeps after an empty wait for a token (docgen.wakeup).
RENDER_POLL_MS = 50
# The same for the render queue's delay queue, which holds only retries (1 s backoff and more):
# dramatiq's default, so that an idle worker does not poll it 20 times a second as well.
DELAY_POLL_MS = 1_000


def _retries() -> int:
    message = CurrentMessage.get_current_message()
    return int(message.options.get("retries", 0)) if message else 0


class RenderWorker(dramatiq.Worker):
    """A dramatiq worker whose delay-queue consumers poll at DELAY_POLL_MS, whatever the
    `worker_timeout` its queue's consumer polls at (dramatiq gives both the same one)."""

    def _add_consumer(self, queue_name: str, *, delay: bool = False) -> None:
        if not delay:
            super()._add_consumer(queue_name)
            return
        # The consumer thread takes the timeout when it is made, inside this call.
        own, self.worker_timeout = self.worker_timeout, max(self.worker_timeout, DELAY_POLL_MS)
        try:
            super()._add_consumer(queue_name, delay=True)
        finally:
            self.worker_timeout = own


def register_actors(
    broker: RedisBroker,
    workshop: Workshop,
    settings: Settings,
    enqueuer: Enqueuer,
    counters: Counters,
    batch_workshop: Workshop | None = None,
) -> None:
    """Thin actors over docgen's functions; each is safe to run twice for one message.

    `batch_workshop` converts at low priority (the pool serves interactive callers first).
    """
    attempts = settings.delivery.max_attempts
    batches = workshop.batches

    def job_actor(work: Callable[..., None]) -> Callable[..., None]:
        """Every line logged while the actor works names its job and the job's tenant."""

        @functools.wraps(work)
        def about(job_id: str, *args: str) -> None:
            found = workshop.jobs.get(job_id)
            with about_job(job_id, found[0].tenant if found else "?"):
                work(job_id, *args)

        return about

    def produce_in(queue: str, shop: Workshop, job_id: str, attachment: str) -> None:
        try:
            done = produce_document(
                shop,
                job_id,
                attachment,  # type: ignore[arg-type]
                final_attempt=_retries() >= MAX_RETRIES,
            )
        except Exception:
            counters.add("docgen_documents_total", {"queue": queue, "outcome": "retried"})
            raise
        # A message redelivered after its document was recorded counts twice: rare (a worker
        # killed between recording and acknowledging), and cheaper than a claim per document.
        if done is not None and done.status in ("succeeded", "failed"):
            outcome = "reused" if done.reused else done.status
            counters.add("docgen_documents_total", {"queue": queue, "outcome": outcome})
        if job_done(workshop, job_id):  # True once per job: counted exactly once
            found = workshop.jobs.get(job_id)
            if found is not None:
                counters.add("docgen_jobs_total", {"status": job_status(found[1])})
            enqueuer.enqueue_finish(job_id)

    def produce(job_id: str, attachment: str) -> None:
        produce_in(RENDER_QUEUE, workshop, job_id, attachment)

    def produce_batch(job_id: str, attachment: str) -> None:
        produce_in(BATCH_QUEUE, batch_workshop or workshop, job_id, attachment)

    def finish(job_id: str) -> None:
        for channel, target in finish_job(workshop, job_id):
            enqueuer.enqueue_delivery(job_id, channel, target)
        found = workshop.jobs.get(job_id)
        batch_id = found[0].batch_id if found else None
        if batch_id and batches and batch_done(workshop, batches, batch_id):
            counters.add("docgen_batches_total", {"state": "finished"})
            enqueuer.enqueue_batch_finish(batch_id)

    def tell_batch(batch_id: str) -> None:
        if batches is not None:
            deliver_batch_webhook(
                workshop,
                batches,
                batch_id,
                settings.delivery,
                final_attempt=_retries() >= attempts - 1,
            )

    def tell(job_id: str, channel: str, target: str) -> None:
        try:
            note = deliver(
                workshop,
                job_id,
                channel,  # type: ignore[arg-type]
                target,
                settings.delivery,
                settings.public_base_url,
                final_attempt=_retries() >= attempts - 1,
            )
        except DocgenError:
            counters.add("docgen_notifications_total", {"channel": channel, "outcome": "retried"})
            raise
        if note is not None and note.status in ("sent", "failed"):
            counters.add("docgen_notifications_total", {"channel": channel, "outcome": note.status})

    # Documents and finishing: transient failures (S3, converter down) back off 1 s → 30 s.
    work = {"max_retries": MAX_RETRIES, "min_backoff": 1_000, "max_backoff": 30_000}
    # Mail relays and platforms go down for minutes: attempts spread over ≈ 2 s … 2 min.
    telling = {"max_retries": attempts - 1, "min_backoff": 2_000, "max_backoff": 120_000}
    for function, name, queue, policy in (
        (job_actor(produce), PRODUCE_DOCUMENT, RENDER_QUEUE, work),
        (job_actor(produce_batch), PRODUCE_BATCH_DOCUMENT, BATCH_QUEUE, work),
        (job_actor(finish), FINISH_JOB, NOTIFY_QUEUE, work),
        (job_actor(tell), DELIVER, NOTIFY_QUEUE, telling),
        (tell_batch, DELIVER_BATCH, NOTIFY_QUEUE, telling),
    ):
        dramatiq.actor(function, actor_name=name, queue_name=queue, broker=broker, **policy)


def reconcile_in_turn(
    client: redis.Redis,
    broker: RedisBroker,
    settings: Settings,
    worker_id: str,
    stop: threading.Event,
) -> None:
    """Every `reconcile_interval_s`, the one worker whose turn it is re-enqueues lost work."""
    interval = settings.reconcile_interval_s
    messages = RedisPendingMessages(
        client, (RENDER_QUEUE, BATCH_QUEUE, NOTIFY_QUEUE), broker.namespace
    )
    enqueuer = DramatiqEnqueuer(broker)
    jobs = RedisJobStore(client)
    while not stop.wait(interval):
        try:
            if take_turn(client, worker_id, int(interval)):
                reconcile(
                    jobs,
                    messages,
                    enqueuer,
                    after=dt.timedelta(seconds=settings.reconcile_after_s),
                )
        except Exception:  # Redis down: the next turn tries again
            log.warning("reconcile.failed worker_id=%s", worker_id, exc_info=True)


def settle(fontconfig_file: str) -> None:
    """Read what the first documents would (the long lists' font metrics), then take the
    process's long-lived objects out of the garbage collector's full collections.

    A full collection scans every tracked object while holding the GIL, so it stalls every
    rendering thread. Start-up leaves ≈150,000 objects (modules, templates, fonts, clients); in
    `make bench BENCH=e2e` the worker's full collections while it served jobs, one every ≈8 s,
    took 83–120 ms each, and 16–21 ms with those objects frozen (`gc.freeze`). Collecting first
    keeps start-up's garbage from being frozen with them.
    """
    warm_up(fontconfig_file)
    gc.collect()
    gc.freeze()


def run_worker(settings: Settings, stop: threading.Event | None = None) -> None:
    """Run until SIGINT/SIGTERM (or `stop`): a pool of K converters, `render_threads` threads.

    One LibreOffice converts one document at a time (DESIGN §4), so at least a thread per
    instance; one more renders the next document while K convert (docs/BENCHMARKS.md §5).
    """
    require_link_secret(settings)
    stop = stop or threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())

    worker_id = f"{socket.gethostname()}-{uuid.uuid4().hex[:8]}"
    client = redis.Redis.from_url(settings.redis_url, socket_timeout=10)
    store = S3Store(settings.s3)
    store.ensure_bucket()

    pool: ConverterPool | None = None
    converter: Converter
    if settings.converter.addresses:
        # Converters run elsewhere and are supervised there: one client, no restarts here.
        converter = UnoserverConverter(
            settings.converter.addresses[0], settings.converter.timeout_s
        )
        threads = converters = 1
    else:
        pool = ConverterPool(
            settings.converter.unoserver_bin,
            settings.converter.fontconfig_file,
            PoolSettings(
                size=settings.converter.pool_size,
                timeout_s=settings.converter.timeout_s,
                max_conversions=settings.converter.max_conversions,
                max_memory_mb=settings.converter.max_memory_mb,
            ),
        ).start()
        converter = pool
        converters = settings.converter.pool_size
        threads = settings.converter.render_threads
        # The fonts' metrics for long lists (docgen.longlists), read now rather than during
        # the first long list a person waits for; then the heap is frozen.
        threading.Thread(
            target=settle, args=(settings.converter.fontconfig_file,), daemon=True
        ).start()

    workshop = Workshop(
        jobs=RedisJobStore(client),
        store=store,
        converter=converter,
        catalogue=load_catalogue(settings.templates_dir),
        counter=RedisVersionCounter(client),
        batches=RedisBatchStore(client),
    )
    batch_workshop = msgspec.structs.replace(
        workshop, converter=pool.low_priority() if pool else converter
    )
    # A killed worker's messages come back once its heartbeat is older than
    # `redelivery_after_s`, at the next "maintenance", which dramatiq runs on a random share of
    # commands: its default 0.1 % took minutes with idle consumers; 5 % costs one small Lua scan
    # per ~20 fetches.
    broker = WakingRedisBroker(
        url=settings.redis_url,
        heartbeat_timeout=int(settings.redelivery_after_s * 1000),
        maintenance_chance=50_000,
    )
    broker.add_middleware(CurrentMessage())
    register_actors(
        broker, workshop, settings, DramatiqEnqueuer(broker), RedisCounters(client), batch_workshop
    )
    # Rendering threads (K + 1 by default); notifications on threads of their own, so that an
    # email never waits behind a conversion (nor a slow SMTP server behind a document).
    # An idle consumer waits on its queue's wake list for a message (docgen.wakeup), and after
    # an empty wait sleeps up to `worker_timeout` (dramatiq's default 1 s) before the next
    # fetch: capped at RENDER_POLL_MS for people's jobs, which a token may reach in that sleep.
    worker = RenderWorker(
        broker, queues={RENDER_QUEUE}, worker_threads=threads, worker_timeout=RENDER_POLL_MS
    )
    # Batch documents on threads of their own: the pool's priority keeps them behind people.
    batch_worker = dramatiq.Worker(broker, queues={BATCH_QUEUE}, worker_threads=threads)
    notifier = dramatiq.Worker(broker, queues={NOTIFY_QUEUE}, worker_threads=2)
    worker.start()
    batch_worker.start()
    notifier.start()
    reconciler = threading.Thread(
        target=reconcile_in_turn,
        args=(client, broker, settings, worker_id, stop),
        name="reconciler",
        daemon=True,
    )
    reconciler.start()
    log.info(
        "worker.started worker_id=%s converter=%s", worker_id, getattr(converter, "address", "?")
    )
    try:
        while not stop.is_set():
            try:
                ready = pool.ready_count() if pool else 1
                stats = pool.stats_snapshot() if pool else None
                publish_heartbeat(
                    client, Heartbeat(worker_id, socket.gethostname(), ready, converters, stats)
                )
            except Exception:
                log.warning("worker.heartbeat_failed worker_id=%s", worker_id, exc_info=True)
            stop.wait(5)
    finally:
        log.info("worker.stopping worker_id=%s", worker_id)
        # Each waits until its idle consumers' wait on the wake list ends (≤ 1 s, docgen.wakeup):
        # together, not one after another.
        stopping = [threading.Thread(target=w.stop) for w in (worker, batch_worker, notifier)]
        for thread in stopping:
            thread.start()
        for thread in stopping:
            thread.join()
        broker.close()
        if pool is not None:
            pool.stop()
