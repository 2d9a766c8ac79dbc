"""Celery tasks: thin wrappers that hand a job id to the job runner. Names are explicit."""
from __future__ import annotations

import logging

from celery import shared_task
from celery.exceptions import Reject

from app.dispatch import TRAIN_TASK
from app.services.usecases.reconcile import reconcile as reconcile_once
from workers.context import runtime_for
from workers.jobs import warmup
from workers.jobs.runner import run_job

log = logging.getLogger(__name__)


@shared_task(name=TRAIN_TASK, bind=True)
def train(self, job_id: str) -> str:
    """Run job ``job_id`` (training or batch inference) if this delivery wins the claim; otherwise nothing.

    The task keeps its first name, trainyard.train, so messages already in Redis still find it.

    A database blip is retried inside the use-cases (app.services.usecases.retry), nowhere else;
    past REGISTER_RETRY_S the task fails and the job, safe in its row, is rung again by the
    reconciler. The claim waits until this child has imported TensorFlow (workers.jobs.warmup), so
    the lease never starts ticking behind a 25 s import.
    """
    warmup.wait_until_warm(self.app.conf.trainyard_settings.worker_wedged_after_s)
    if warmup.STOPPING.value:  # a warm shutdown began while this child imported TensorFlow
        log.warning("job %s: worker shutting down before the claim; its message goes back to the queue", job_id)
        raise Reject("worker shutting down before the claim", requeue=True)
    return run_job(runtime_for(self.app), job_id, worker=self.request.hostname or "worker")


@shared_task(name="trainyard.reconcile", bind=True)
def reconcile(self) -> dict[str, int]:
    """One reconciler pass on demand (beat runs it continuously in its own thread)."""
    return reconcile_once(runtime_for(self.app))
