"""The worker process's composition root: broker, converter, actors, heartbeat."""

from __future__ import annotations

import logging
import signal
import socket
import threading
import uuid

import dramatiq
import redis
from dramatiq.brokers.redis import RedisBroker
from dramatiq.middleware import CurrentMessage

from docgen.convert import Converter, UnoserverConverter
from docgen.delivery import deliver, finish_job, job_done
from docgen.heartbeat import Heartbeat, publish_heartbeat
from docgen.jobs import RedisJobStore
from docgen.objectstore import S3Store
from docgen.pipeline import Workshop, produce_document
from docgen.pool import ConverterPool, PoolSettings
from docgen.queue import (
    DELIVER,
    FINISH_JOB,
    NOTIFY_QUEUE,
    PRODUCE_DOCUMENT,
    RENDER_QUEUE,
    DramatiqEnqueuer,
    Enqueuer,
)
from docgen.settings import Settings, require_link_secret
from docgen.storage import RedisVersionCounter
from docgen.templates import load_catalogue

log = logging.getLogger("docgen.worker")

MAX_RETRIES = (
    5  # transient failures (S3, converter down) back off 1 s → 30 s, then the document fails
)


def _retries() -> int:
    message = CurrentMessage.get_current_message()
    return int(message.options.get("retries", 0)) if message else 0


def register_actors(
    broker: RedisBroker, workshop: Workshop, settings: Settings, enqueuer: Enqueuer
) -> None:
    """Thin actors over docgen's functions; each is safe to run twice for one message."""
    attempts = settings.delivery.max_attempts

    def produce(job_id: str, attachment: str) -> None:
        produce_document(
            workshop,
            job_id,
            attachment,  # type: ignore[arg-type]
            final_attempt=_retries() >= MAX_RETRIES,
        )
        if job_done(workshop, job_id):
            enqueuer.enqueue_finish(job_id)

    def finish(job_id: str) -> None:
        for channel, target in finish_job(workshop, job_id):
            enqueuer.enqueue_delivery(job_id, channel, target)

    def tell(job_id: str, channel: str, target: str) -> None:
        deliver(
            workshop,
            job_id,
            channel,  # type: ignore[arg-type]
            target,
            settings.delivery,
            settings.public_base_url,
            final_attempt=_retries() >= attempts - 1,
        )

    dramatiq.actor(
        produce,
        actor_name=PRODUCE_DOCUMENT,
        queue_name=RENDER_QUEUE,
        broker=broker,
        max_retries=MAX_RETRIES,
        min_backoff=1_000,
        max_backoff=30_000,
    )
    dramatiq.actor(
        finish,
        actor_name=FINISH_JOB,
        queue_name=NOTIFY_QUEUE,
        broker=broker,
        max_retries=MAX_RETRIES,
        min_backoff=1_000,
        max_backoff=30_000,
    )
    # Mail relays and platforms go down for minutes: attempts spread over ≈ 2 s … 2 min.
    dramatiq.actor(
        tell,
        actor_name=DELIVER,
        queue_name=NOTIFY_QUEUE,
        broker=broker,
        max_retries=attempts - 1,
        min_backoff=2_000,
        max_backoff=120_000,
    )


def run_worker(settings: Settings, stop: threading.Event | None = None) -> None:
    """Run until SIGINT/SIGTERM (or `stop`): a pool of K converters, K rendering threads.

    One LibreOffice converts one document at a time (DESIGN §4), so a thread per instance.
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
        threads = 1
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
        threads = settings.converter.pool_size

    workshop = Workshop(
        jobs=RedisJobStore(client),
        store=store,
        converter=converter,
        catalogue=load_catalogue(settings.templates_dir),
        counter=RedisVersionCounter(client),
    )
    broker = RedisBroker(url=settings.redis_url)
    broker.add_middleware(CurrentMessage())
    register_actors(broker, workshop, settings, DramatiqEnqueuer(broker))
    # One rendering thread per LibreOffice instance; notifications on threads of their own, so that
    # an email never waits behind a conversion (nor a slow SMTP server behind a document).
    worker = dramatiq.Worker(broker, queues={RENDER_QUEUE}, worker_threads=threads)
    notifier = dramatiq.Worker(broker, queues={NOTIFY_QUEUE}, worker_threads=2)
    worker.start()
    notifier.start()
    log.info(
        "worker.started worker_id=%s converter=%s", worker_id, getattr(converter, "address", "?")
    )
    try:
        while not stop.is_set():
            try:
                ready = pool.ready_count() if pool else 1
                publish_heartbeat(
                    client, Heartbeat(worker_id, socket.gethostname(), ready, threads)
                )
            except Exception:
                log.warning("worker.heartbeat_failed worker_id=%s", worker_id, exc_info=True)
            stop.wait(5)
    finally:
        log.info("worker.stopping worker_id=%s", worker_id)
        worker.stop()
        notifier.stop()
        broker.close()
        if pool is not None:
            pool.stop()
