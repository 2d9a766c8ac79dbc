"""Celery tasks: thin wrappers that hand a job id to the job runner. Names are explicit."""
from __future__ import annotations

import logging

from celery import shared_task
from sqlalchemy.exc import OperationalError

from app.dispatch import TRAIN_TASK
from workers import warmup
from workers.context import runtime_for
from workers.runner import run_job

log = logging.getLogger(__name__)


@shared_task(name=TRAIN_TASK, bind=True, max_retries=60)
def train(self, job_id: str) -> str:
    """Run job ``job_id`` (training or batch inference) if this delivery wins the claim; otherwise nothing.

    The task keeps its first name, trainyard.train, so messages already in Redis still find it.

    If the database cannot be reached to claim, retry later (the job row is safe there).
    The claim waits until this child has imported TensorFlow (workers.warmup), so the
    lease never starts ticking behind a 25 s import.
    """
    warmup.wait_until_warm()
    try:
        return run_job(runtime_for(self.app), job_id, worker=self.request.hostname or "worker")
    except OperationalError as exc:
        raise self.retry(exc=exc, countdown=min(2 ** self.request.retries, 30)) from exc


@shared_task(name="trainyard.reconcile", bind=True)
def reconcile(self) -> dict[str, int]:
    """One reconciler pass on demand (beat runs it continuously in its own thread)."""
    return runtime_for(self.app).reconcile()
