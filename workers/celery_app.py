"""The Celery application for workers and beat: ``celery -A workers.celery_app worker|beat``.

Creating the app opens no connection; each process builds its own database engine
(see ``workers.context``). Celery with Redis delivers at least once; the database
claim (one conditional UPDATE per attempt) turns that into exactly once.
"""
from __future__ import annotations

import logging

from billiard.exceptions import TimeLimitExceeded
from celery import Celery
from celery.signals import (
    beat_init,
    task_failure,
    worker_process_init,
    worker_ready,
    worker_shutdown,
    worker_shutting_down,
)

from app.config import Settings
from workers.jobs import warmup

log = logging.getLogger(__name__)


def make_celery(settings: Settings | None = None) -> Celery:
    """Build the worker-side Celery app from settings (tests pass their own through the environment)."""
    settings = settings or Settings.from_env()
    celery = Celery("trainyard", broker=settings.redis_url, include=["workers.jobs.tasks"])
    celery.conf.update(
        # One job at a time per worker (one worker per GPU); prefetching would park a second job
        # behind an hour-long one, invisible to other workers.
        worker_concurrency=1,
        worker_prefetch_multiplier=1,
        # Ack after the task ran, and requeue it if the child dies: a killed worker never loses a job.
        # The attempt counter in the database breaks the loop of a job that kills its worker every
        # time (the reconciler fails it after MAX_ATTEMPTS).
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        # A late-ack task still running when the broker connection drops would be redelivered and run
        # twice after the reconnect; cancel it instead (its lease lapses and it resumes from its
        # checkpoint under a new attempt).
        worker_cancel_long_running_tasks_on_connection_loss=True,
        # Keep trying to reach Redis, at start-up and forever after: a Redis restart must not kill workers.
        broker_connection_retry_on_startup=True,
        broker_connection_max_retries=None,
        # Soft limit (ours, at batch boundaries, in workers.jobs.lease) < hard limit < visibility timeout:
        # Redis never redelivers a job that is still legitimately running.
        task_time_limit=settings.hard_time_limit_s,
        broker_transport_options={"visibility_timeout": settings.visibility_timeout_s},
        # A fresh child per job frees GPU memory (TensorFlow keeps it for the life of a process);
        # set MAX_JOBS_PER_CHILD=1 on GPU workers. The next child imports TensorFlow in the background.
        worker_max_tasks_per_child=settings.max_jobs_per_child or None,
        # A child reports UP before it imports TensorFlow (workers.jobs.warmup). Keep the margin: a real
        # import holds the GIL while it loads its libraries, which can delay the report by seconds.
        worker_proc_alive_timeout=settings.worker_child_up_timeout_s,
        task_ignore_result=True,
        task_serializer="json",
        accept_content=["json"],
        task_default_queue="cpu",
        worker_hijack_root_logger=False,
    )
    celery.conf.trainyard_settings = settings
    return celery


@worker_process_init.connect
def _warm_up(**_kwargs) -> None:
    """Start importing TensorFlow in the new child, in a thread, so the child reports UP at once.

    The parent never imports it: TensorFlow and CUDA are not fork-safe. A job waits for the
    import before it claims (workers.jobs.tasks); see workers.jobs.warmup for why this is not done here.
    """
    warmup.start()


@worker_ready.connect
def _start_heartbeat(sender=None, **_kwargs) -> None:
    """Advertise this worker (queues, GPUs, its child's state) in the workers table every few seconds."""
    from workers.host.heartbeat import Heartbeat
    from workers.host.pool_watch import PoolWatch

    settings = celery_app.conf.trainyard_settings
    name = getattr(sender, "hostname", None) or "worker"
    queues = sorted(q.name for q in celery_app.amqp.queues.consume_from.values())
    pool = PoolWatch(settings.worker_wedged_after_s, warm_pid=lambda: warmup.WARM_PID.value,
                     started=lambda: warmup.CHILD_STARTS.value)
    # Beats further apart than 10 s would make a live worker look gone (LIVE_WITHIN is 35 s).
    beat = Heartbeat(settings, name, queues, min(max(settings.worker_beat_s, 0.1), 10.0), pool)
    celery_app.conf.trainyard_heartbeat = beat
    beat.start()


@worker_shutdown.connect
def _stop_heartbeat(**_kwargs) -> None:
    beat = celery_app.conf.get("trainyard_heartbeat")
    if beat is not None:
        beat.stop()


@worker_shutting_down.connect
def _hand_back_on_shutdown(sender=None, sig=None, how=None, **_kwargs) -> None:
    """On a warm shutdown (SIGTERM: a deploy, a spot instance leaving), ask this worker's running
    job to checkpoint at the next batch and go back to the queue, instead of blocking for hours;
    a delivery still waiting for TensorFlow's import goes back without being claimed."""
    if how != "Warm" or not sender:
        return
    warmup.STOPPING.value = 1  # a job not claimed yet (its child still imports TensorFlow) goes back unclaimed
    from app.services.usecases.stop import request_handback
    from workers.context import runtime_for

    try:
        ids = request_handback(runtime_for(celery_app), str(sender))
        if ids:
            log.warning("shutting down: handing back %s", ", ".join(ids))
    except Exception:
        log.exception("could not request hand-back on shutdown")


@task_failure.connect
def _fail_at_the_hard_time_limit(sender=None, task_id=None, exception=None, **_kwargs) -> None:
    """Celery killed a job's child at HARD_TIME_LIMIT_S (the soft limit's checkpoint-and-fail did not end
    it in time). Runs in the worker's parent: fail the job now, saying why, rather than leaving it to the
    reconciler, which would retry it as a lost worker. (Task id = job id; its checkpoints are dropped.)"""
    beat = celery_app.conf.get("trainyard_heartbeat")
    if not isinstance(exception, TimeLimitExceeded) or beat is None or not task_id:
        return
    from app.services.usecases.stop import fail_killed
    from workers.context import runtime_for

    limit = celery_app.conf.trainyard_settings.hard_time_limit_s
    reason = (f"time limit: the job ran past HARD_TIME_LIMIT_S ({limit} s) and its process was killed; "
              f"raise SOFT_TIME_LIMIT_S / HARD_TIME_LIMIT_S or train for fewer epochs")
    try:
        rt = runtime_for(celery_app)
        if fail_killed(rt, task_id, beat.name, reason):
            log.error("job %s: %s", task_id, reason)
            rt.store.remove_tree(f"checkpoints/{task_id}")
    except Exception:
        log.exception("job %s: could not record the hard time limit", task_id)


@beat_init.connect
def _start_loops(sender=None, **_kwargs) -> None:
    """Beat runs the reconciler, the schedule firer, the sweeps' decider and the webhook sender in threads of their own,
    so none of them ever waits behind a busy worker."""
    from workers.beat.reconciler import reconciler, schedule_firer, sweep_decider
    from workers.beat.webhook_loop import webhook_sender

    reconciler(celery_app).start()
    schedule_firer(celery_app).start()
    sweep_decider(celery_app).start()
    webhook_sender(celery_app).start()


celery_app = make_celery()
app = celery_app  # `celery -A workers.celery_app` finds either name
