"""The Celery application for workers and beat: ``celery -A workers.celery_app worker|beat``.

Creating the app opens no connection; each worker process builds its own
database engine after the fork (see ``workers.context``).
"""
from __future__ import annotations

import os

from celery import Celery
from celery.signals import worker_process_init

from app.config import Settings


def make_celery(settings: Settings | None = None) -> Celery:
    """Build the worker-side Celery app from settings (tests pass their own)."""
    settings = settings or Settings.from_env()
    celery = Celery("trainyard", broker=settings.redis_url, include=["workers.tasks"])
    celery.conf.update(
        # One job at a time per worker process (one worker per GPU), nothing prefetched.
        worker_concurrency=1,
        worker_prefetch_multiplier=1,
        # Ack after the task ran: a worker that dies mid-job leaves the message to be redelivered,
        # and the claim in the database makes a second delivery harmless.
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        task_ignore_result=True,
        task_serializer="json",
        accept_content=["json"],
        task_default_queue="cpu",
        # Long jobs must not be redelivered while still running; the reconciler owns recovery.
        broker_transport_options={"visibility_timeout": 12 * 3600},
        broker_connection_retry_on_startup=True,
        worker_hijack_root_logger=False,
        beat_schedule={
            "trainyard.reconcile": {"task": "trainyard.reconcile",
                                    "schedule": float(settings.reconcile_interval_s)},
        },
    )
    celery.conf.trainyard_settings = settings
    return celery


@worker_process_init.connect
def _warm_up(**_kwargs) -> None:
    """Import TensorFlow in the worker child (after fork) so the first job does not pay for it."""
    if os.environ.get("TRAINYARD_PRELOAD_TF", "1") == "1":
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
        import tensorflow  # noqa: F401


celery_app = make_celery()
app = celery_app  # `celery -A workers.celery_app` finds either name
