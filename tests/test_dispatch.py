"""The web's doorbell (app.dispatch): a real Celery message in a real Redis, one client for every send, a send
after Redis restarted on the same port reaches the new server, and TLS or Sentinel URLs keep kombu's own
transport."""
from __future__ import annotations

import base64
import json
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from app.dispatch import TRAIN_TASK, Dispatcher, PublishTransport
from tests.support import die_with_parent, free_port, wait_until


def _redis_server(port: int, folder: Path) -> subprocess.Popen:
    server = subprocess.Popen(["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                               "--appendonly", "no", "--dir", str(folder)], stdout=subprocess.DEVNULL,
                              stderr=subprocess.STDOUT, start_new_session=True, preexec_fn=die_with_parent)
    client = redis.Redis(port=port, socket_connect_timeout=1)

    def pings() -> bool:
        try:
            return bool(client.ping())
        except redis.RedisError:
            return False

    wait_until(pings, timeout=30, what="a redis-server of the test's own")  # a loaded machine starts it late
    return server


@pytest.fixture
def own_redis(tmp_path) -> Iterator[str]:
    """A redis-server of this test's own (so it can be stopped); its URL."""
    port = free_port()
    server = _redis_server(port, tmp_path)
    yield f"redis://127.0.0.1:{port}/0"
    server.terminate()
    server.wait(10)


def _messages(url: str, queue: str) -> list[dict]:
    return [json.loads(raw) for raw in redis.Redis.from_url(url).lrange(queue, 0, -1)]


def _publishing_channel(dispatcher: Dispatcher):
    """The channel the dispatcher's sends go through (Celery's producer pool hands the same one back)."""
    with dispatcher.celery.producer_or_acquire() as producer:
        return producer.channel


def test_a_ring_is_a_celery_message_named_by_the_job(own_redis):
    url = own_redis
    queue = f"q-{uuid.uuid4().hex[:8]}"
    job_id = uuid.uuid4().hex
    assert Dispatcher(url).ring(job_id, queue) is True
    [message] = _messages(url, queue)
    assert message["headers"]["task"] == TRAIN_TASK and message["headers"]["id"] == job_id
    assert message["properties"]["body_encoding"] == "base64"
    args, kwargs, _embed = json.loads(base64.b64decode(message["body"]))
    assert (args, kwargs) == ([job_id], {})


def test_sends_share_one_client_until_kombu_drops_its_pool(own_redis):
    url = own_redis
    queue = f"q-{uuid.uuid4().hex[:8]}"
    dispatcher = Dispatcher(url)
    assert dispatcher.ring(uuid.uuid4().hex, queue)
    channel = _publishing_channel(dispatcher)
    first = channel._publisher
    assert first is not None and first.connection_pool is channel.pool
    assert dispatcher.ring(uuid.uuid4().hex, queue)
    assert _publishing_channel(dispatcher)._publisher is first  # not one client a send
    channel._disconnect_pools()  # what kombu does after a fork or a connection error
    assert dispatcher.ring(uuid.uuid4().hex, queue)
    again = _publishing_channel(dispatcher)._publisher
    assert again is not first and again.connection_pool is channel.pool
    assert len(_messages(url, queue)) == 3


def test_a_ring_after_redis_restarted_reaches_the_new_server(tmp_path):
    port = free_port()
    url = f"redis://127.0.0.1:{port}/0"
    server = _redis_server(port, tmp_path)
    try:
        dispatcher = Dispatcher(url)
        assert dispatcher.ring("before", "cpu")
        server.terminate()
        server.wait(10)
        assert dispatcher.ring("while-away", "cpu") is False  # the job stays queued for the reconciler
        server = _redis_server(port, tmp_path)  # empty: it keeps nothing on disk
        assert dispatcher.ring("after", "cpu") is True
        assert [m["headers"]["id"] for m in _messages(url, "cpu")] == ["after"]
    finally:
        server.terminate()
        server.wait(10)


def test_only_a_plain_redis_url_takes_the_publishing_transport():
    """A transport given by class skips kombu's choice by scheme: TLS (``rediss://``) must stay TLS, and
    ``sentinel://`` must reach kombu's Sentinel transport (no server is contacted here)."""
    plain = Dispatcher("redis://127.0.0.1:1/0").celery.connection_for_write()
    assert plain.transport_cls is PublishTransport and not plain.ssl
    tls = Dispatcher("rediss://127.0.0.1:1/0").celery.connection_for_write()
    assert tls.transport_cls == "rediss" and tls.ssl
    sentinel = Dispatcher("sentinel://127.0.0.1:1/0").celery.connection_for_write()
    assert sentinel.transport_cls == "sentinel"
