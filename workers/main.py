"""The worker process's composition root: broker, converter, actors, heartbeat."""

from __future__ import annotations

import logging
import signal
import socket
import tempfile
import threading
import uuid
from pathlib import Path

import dramatiq
import redis
from dramatiq.brokers.redis import RedisBroker
from dramatiq.middleware import CurrentMessage

from docgen.convert import Converter, UnoserverConverter, UnoserverProcess
from docgen.heartbeat import Heartbeat, publish_heartbeat
from docgen.jobs import RedisJobStore
from docgen.objectstore import S3Store
from docgen.pipeline import Workshop, produce_document
from docgen.queue import PRODUCE_DOCUMENT, RENDER_QUEUE
from docgen.settings import Settings
from docgen.storage import RedisVersionCounter
from docgen.templates import load_catalogue

log = logging.getLogger("docgen.worker")

MAX_RETRIES = (
    5  # transient failures (S3, converter down) back off 1 s → 30 s, then the document fails
)


def register_actors(broker: RedisBroker, workshop: Workshop) -> None:
    def produce(job_id: str, attachment: str) -> None:
        message = CurrentMessage.get_current_message()
        retries = message.options.get("retries", 0) if message else MAX_RETRIES
        produce_document(
            workshop,
            job_id,
            attachment,  # type: ignore[arg-type]
            final_attempt=retries >= MAX_RETRIES,
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


def run_worker(settings: Settings, stop: threading.Event | None = None) -> None:
    """Run until SIGINT/SIGTERM (or `stop`): one converter, one worker thread.

    One LibreOffice converts one document at a time (DESIGN §4), so a thread per converter.
    """
    stop = stop or threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())

    worker_id = f"{socket.gethostname()}-{uuid.uuid4().hex[:8]}"
    client = redis.Redis.from_url(settings.redis_url, socket_timeout=10)
    store = S3Store(settings.s3)
    store.ensure_bucket()

    own: UnoserverProcess | None = None
    converter: Converter
    if settings.converter.addresses:
        converter = UnoserverConverter(
            settings.converter.addresses[0], settings.converter.timeout_s
        )
    else:
        workdir = Path(tempfile.mkdtemp(prefix="docgen-worker-"))
        own = UnoserverProcess(
            settings.converter.unoserver_bin,
            workdir,
            settings.converter.fontconfig_file,
            settings.converter.timeout_s,
        )
        own.wait_ready()
        converter = own.converter

    workshop = Workshop(
        jobs=RedisJobStore(client),
        store=store,
        converter=converter,
        catalogue=load_catalogue(settings.templates_dir),
        counter=RedisVersionCounter(client),
    )
    broker = RedisBroker(url=settings.redis_url)
    broker.add_middleware(CurrentMessage())
    register_actors(broker, workshop)
    worker = dramatiq.Worker(broker, queues={RENDER_QUEUE}, worker_threads=1)
    worker.start()
    log.info(
        "worker.started worker_id=%s converter=%s", worker_id, getattr(converter, "address", "?")
    )
    try:
        while not stop.is_set():
            try:
                alive = own is None or own.process.alive()
                publish_heartbeat(client, Heartbeat(worker_id, socket.gethostname(), int(alive), 1))
            except Exception:
                log.warning("worker.heartbeat_failed worker_id=%s", worker_id, exc_info=True)
            stop.wait(5)
    finally:
        log.info("worker.stopping worker_id=%s", worker_id)
        worker.stop()
        broker.close()
        if own is not None:
            own.stop()
