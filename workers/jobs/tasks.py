"""Celery tasks: thin wrappers that hand a job id to the job runner. Names are explicit."""
from __future__ import annotations

import logging
import threading

from celery import Task, shared_task
from celery.exceptions import Reject

from app.dispatch import TRAIN_TASK
from app.services.usecases.reconcile import reconcile as reconcile_once
from app.services.usecases.stop import hand_back_cut_off
from workers.context import runtime_for
from workers.jobs import warmup
from workers.jobs.runner import run_job

log = logging.getLogger(__name__)


class JobTask(Task):
    """A job's task. ``on_retry`` runs in the worker's parent when Celery gives up a running request: with
    ``worker_cancel_long_running_tasks_on_connection_loss`` it terminates a late-ack task whose broker
    connection dropped (a Redis restart), since it could not acknowledge it later. The job is handed back
    at once, instead of waiting LEASE_S for the reconciler, and resumes from its checkpoint. (The job's
    code never raises ``Retry``, so this is the only way here.)"""

    abstract = True

    def on_retry(self, exc, task_id, args, kwargs, einfo) -> None:
        beat = self.app.conf.get("trainyard_heartbeat")  # the worker's parent only
        if beat is None or not task_id:
            return
        # In a thread: the database may be away too, and the consumer is busy reconnecting.
        threading.Thread(target=_hand_back_cut_off, args=(self.app, task_id, beat.name, str(exc)),
                         name=f"hand-back-{task_id}", daemon=True).start()


def _hand_back_cut_off(app, job_id: str, worker: str, why: str) -> None:
    try:
        if hand_back_cut_off(runtime_for(app), job_id, worker, "broker connection lost"):
            log.warning("job %s: its process was terminated (%s); handed back to the queue", job_id, why)
    except Exception:
        log.exception("job %s: could not hand back after the broker connection was lost", job_id)


@shared_task(name=TRAIN_TASK, bind=True, base=JobTask)
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
