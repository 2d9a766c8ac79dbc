"""Ringing the doorbell: tell workers, through Redis, that a committed job is ready.

The web process uses a bare Celery client and sends by task name, so it never
imports ``workers`` (and with it TensorFlow). A failed send loses nothing: the
job row is already committed and the reconciler rings again later.
"""
from __future__ import annotations

import logging
from collections.abc import Iterable
from urllib.parse import urlsplit

from celery import Celery
from kombu.transport.redis import Channel as RedisChannel
from kombu.transport.redis import Transport as RedisTransport

from app.broker import live_message_ids

TRAIN_TASK = "trainyard.train"
log = logging.getLogger(__name__)


class _PublishChannel(RedisChannel):
    """kombu's Redis channel builds a new ``redis.Redis`` for every publish, and building one (its table of
    reply parsers) cost about a fifth of a ``send_task`` (bench/RESULTS.md). This one keeps the client it
    built while kombu's pool stays the same: the same pool, so the same connections and reconnects. A
    pool kombu drops (after a fork) gets a new client, as does the new channel kombu opens after a
    connection error."""

    _publisher = None

    def _create_client(self, asynchronous=False):
        if asynchronous:  # the consumer's: kombu caches it itself
            return super()._create_client(asynchronous=True)
        client = self._publisher
        if client is None or client.connection_pool is not self.pool:
            client = self._publisher = super()._create_client()
        return client


class PublishTransport(RedisTransport):
    """kombu's Redis transport with ``_PublishChannel``, for a plain ``redis://`` URL only: a transport given
    by class skips kombu's choice by the URL's scheme, so ``rediss://`` (TLS) and ``sentinel://`` keep
    kombu's own. The web's sends only (workers consume with kombu's own)."""

    Channel = _PublishChannel


class Dispatcher:
    def __init__(self, redis_url: str) -> None:
        self.redis_url = redis_url
        self.celery = Celery("trainyard-client", broker=redis_url, set_as_current=False)
        if urlsplit(redis_url).scheme == "redis":
            self.celery.conf.broker_transport = PublishTransport
        self.celery.conf.update(
            broker_connection_timeout=2,
            broker_connection_retry_on_startup=False,
            task_serializer="json",
            task_publish_retry_policy={"max_retries": 2, "interval_start": 0, "interval_step": 0.2},
        )

    def ring(self, job_id: str, queue: str) -> bool:
        """Send the job's message (task id = job id); False if the broker could not take it."""
        try:
            self.celery.send_task(TRAIN_TASK, args=[job_id], task_id=job_id, queue=queue)
        except Exception:  # the broker is down or unreachable: the reconciler will ring again
            log.warning("could not dispatch job %s; it stays queued for the reconciler", job_id,
                        exc_info=True)
            return False
        return True

    def live_message_ids(self, queues: Iterable[str], unacked_grace_s: float) -> set[str] | None:
        """Jobs that still have a message in the broker (waiting, or delivered and not yet acknowledged)."""
        return live_message_ids(self.redis_url, queues, unacked_grace_s=unacked_grace_s)
