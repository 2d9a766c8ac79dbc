"""Celery tasks: thin wrappers that hand a job id to the job runner. Names are explicit."""
from __future__ import annotations

import logging

from celery import shared_task

from app.dispatch import TRAIN_TASK
from workers.context import runtime_for
from workers.runner import run_train_job

log = logging.getLogger(__name__)


@shared_task(name=TRAIN_TASK, bind=True)
def train(self, job_id: str) -> None:
    """Run training job ``job_id`` if this delivery wins the claim; otherwise do nothing."""
    run_train_job(runtime_for(self.app), job_id, worker=self.request.hostname or "worker")


@shared_task(name="trainyard.reconcile", bind=True)
def reconcile(self) -> int:
    """Ring again for queued jobs whose message may be gone (Redis flushed, send failed)."""
    rung = runtime_for(self.app).redispatch_stale()
    if rung:
        log.info("reconciler re-dispatched %d queued job(s)", len(rung))
    return len(rung)
