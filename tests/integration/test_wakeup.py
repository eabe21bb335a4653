"""Idle consumers are woken by each message (docgen.wakeup), over a real Redis."""

from __future__ import annotations

import threading

import dramatiq
import pytest
import redis

from docgen.processes import wait_until
from docgen.wakeup import MAX_TOKENS, WakingRedisBroker, wake_key
from workers.main import RENDER_POLL_MS

pytestmark = pytest.mark.integration


def _blocked_in_blpop(client: redis.Redis) -> bool:
    """Whether a connection waits in BLPOP: Redis lists a blocked client's command."""
    return any(c.get("cmd") == "blpop" for c in client.client_list())


def _message(queue: str) -> dramatiq.Message[object]:
    return dramatiq.Message(queue_name=queue, actor_name="a", args=(), kwargs={}, options={})


def test_a_consumer_waiting_on_an_empty_queue_gets_the_message_enqueued_meanwhile(
    redis_url: str, redis_client: redis.Redis
) -> None:
    # A long wait: the message can only come back from this fetch if the enqueue woke it.
    broker = WakingRedisBroker(url=redis_url, wait_s=60)
    broker.declare_queue("render")
    fetched: list[list[bytes]] = []
    waiting = threading.Thread(target=lambda: fetched.append(broker.do_fetch("render", 4)))
    waiting.start()
    try:
        wait_until(lambda: _blocked_in_blpop(redis_client), 10, what="BLPOP")
        broker.enqueue(_message("render"))
        waiting.join(30)
        assert not waiting.is_alive()
        assert len(fetched[0]) == 1
    finally:
        if waiting.is_alive():  # an assertion failed: free the thread
            broker.enqueue(_message("render"))
            waiting.join(60)
        broker.close()


def test_tokens_go_to_undelayed_messages_only_and_stop_piling_up(
    redis_url: str, redis_client: redis.Redis
) -> None:
    broker = WakingRedisBroker(url=redis_url)
    broker.declare_queue("render")
    broker.enqueue(_message("render"), delay=60_000)  # a retry waits for its eta, not a token
    assert redis_client.keys("*.wake") == []
    for _ in range(MAX_TOKENS + 10):
        broker.enqueue(_message("render"))
    assert redis_client.llen(wake_key("dramatiq", "render")) == MAX_TOKENS
    broker.close()


def test_a_worker_on_the_waking_broker_runs_its_messages(
    redis_url: str, redis_client: redis.Redis
) -> None:
    broker = WakingRedisBroker(url=redis_url)
    ran = threading.Event()

    @dramatiq.actor(broker=broker, queue_name="render")
    def render() -> None:
        ran.set()

    worker = dramatiq.Worker(
        broker, queues={"render"}, worker_threads=1, worker_timeout=RENDER_POLL_MS
    )
    worker.start()
    try:
        wait_until(lambda: _blocked_in_blpop(redis_client), 10, what="idle")
        render.send()
        wait_until(ran.is_set, 30, what="the message")
    finally:
        worker.stop()
        broker.close()


def test_a_token_that_cannot_be_pushed_does_not_fail_the_enqueued_message(
    redis_url: str, redis_client: redis.Redis, monkeypatch: pytest.MonkeyPatch
) -> None:
    broker = WakingRedisBroker(url=redis_url)
    broker.declare_queue("render")

    class LostPipeline:
        def lpush(self, *args: object) -> None: ...
        def ltrim(self, *args: object) -> None: ...

        def execute(self) -> None:
            raise redis.ConnectionError("lost between the message and its token")

    monkeypatch.setattr(broker.client, "pipeline", lambda **kwargs: LostPipeline())
    broker.enqueue(_message("render"))  # no error: the message itself is stored
    assert redis_client.hlen("dramatiq:render.msgs") == 1
    assert redis_client.llen(wake_key("dramatiq", "render")) == 0
    broker.close()
