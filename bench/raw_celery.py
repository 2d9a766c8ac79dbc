"""A bench-only Celery app with one trivial task: the floor for enqueue -> start latency.

Same broker (Redis URL from ``REDIS_URL``), same serializer and the same worker
settings as ``workers.celery_app`` (acks late, prefetch 1, concurrency 1), so the
only difference from a Trainyard job is the platform's own work.
Run its worker with ``celery -A bench.raw_celery worker -Q bench-raw -c 1``.
"""
from __future__ import annotations

import os
import time
from functools import cache

import redis
from celery import Celery

QUEUE = "bench-raw"
TASK = "bench.raw.mark"
KEY = "bench:raw:{token}"


def make_app(redis_url: str) -> Celery:
    """A Celery app configured like the platform's worker app."""
    celery = Celery("bench-raw", broker=redis_url, set_as_current=False)
    celery.conf.update(
        worker_concurrency=1, worker_prefetch_multiplier=1, task_acks_late=True,
        task_reject_on_worker_lost=True, task_ignore_result=True, task_serializer="json",
        accept_content=["json"], task_default_queue=QUEUE,
        broker_transport_options={"visibility_timeout": 12 * 3600},
        broker_connection_retry_on_startup=True, worker_hijack_root_logger=False,
    )
    return celery


app = make_app(os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/14"))


@cache
def _redis() -> redis.Redis:
    """One Redis client per worker process."""
    return redis.Redis.from_url(app.conf.broker_url)


@app.task(name=TASK)
def mark(token: str) -> None:
    """Record the wall-clock time this task started under ``bench:raw:<token>``."""
    started = time.time()
    _redis().rpush(KEY.format(token=token), repr(started))
