"""Redis restarted or flushed while a job trains, on PostgreSQL (issue 15 item 2): the job goes on from
where it was, never from epoch 0, and each epoch is trained once (the one an interrupted attempt may
repeat aside).

Two paths can follow. If the worker's child survives (a flush takes only the message), the same attempt
carries on: one attempt, every epoch once. If Celery terminates the task on the lost connection
(``worker_cancel_long_running_tasks_on_connection_loss``: it could not acknowledge it later), the
worker's parent hands the job back at once (``workers.jobs.tasks.JobTask.on_retry``) and attempt 2
resumes from the newest checkpoint, well inside LEASE_S (60 s here, as in production): before that
hand-back the job waited for its lease to lapse and the reconciler to take it back. Each test prints
which path it took and how long after the fault training went on.
"""
from __future__ import annotations

import time

import pytest

from app.domain.status import FINISHED, JobStatus
from tests.faults.cluster import Cluster, budget
from tests.faults.test_faults import _exactly_once, worker_with_test_kinds
from tests.kinds.packages import visible
from tests.support import wait_until

pytestmark = pytest.mark.faults
EPOCHS = 30


def _checkpointed(c: Cluster, job: str) -> int:
    """Wait for the first attempt to have a checkpoint on disk; returns the epoch training had reached."""
    state = c.settings.models_store / "checkpoints" / job / "a1" / "state.json"
    wait_until(state.exists, timeout=budget(180), interval=0.1, what="the first checkpoint")
    return c.wait_epoch(job, 3)["epoch"]


def _went_on(c: Cluster, job: str, epoch: int, since: float) -> tuple[float, int]:
    """Seconds from ``since`` until training reported an epoch past ``epoch`` (or the job ended), and the
    attempt that was running then: 1 if the same child carried on, 2 if a new attempt resumed."""
    def progressed():
        events = c.events(job)
        past = max((e["epoch"] for e in events if e["kind"] == "epoch"), default=0) > epoch
        attempts = sum(1 for e in events if e["kind"] == "status" and e.get("status") == "running")
        return (past or c.job(job)["status"] in FINISHED) and attempts
    attempt = wait_until(progressed, timeout=budget(180), interval=0.1, what="training to go on")
    return time.monotonic() - since, attempt


def _trained_once(c: Cluster, job: str, fault: str, checkpointed_epoch: int) -> dict:
    _exactly_once(c, [job], fault)
    done = c.job(job)
    m, runs = done["metrics"], c.executions(job)
    if done["attempt"] > 1:  # taken back by the reconciler: the new attempt resumed, not from epoch 0
        assert (m.get("resumed_from_epoch") or 0) >= 1, m
        assert m["resumed_from_epoch"] >= checkpointed_epoch - 1, (m, checkpointed_epoch)
    else:  # the same attempt carried on: every epoch trained exactly once
        assert m.get("resumed_from_epoch") is None, m
        assert sorted(runs.epochs) == list(range(1, EPOCHS + 1)), runs.epochs
    assert m["epochs_run"] == EPOCHS and (done["epoch"], done["total_epochs"]) == (EPOCHS, EPOCHS)
    return done


@pytest.mark.parametrize("pg_cluster", [{"lease_s": 60.0, "heartbeat_interval_s": 1.0}], indirect=True)
def test_redis_restart_mid_job_resumes_from_the_checkpoint(pg_cluster):
    c = pg_cluster
    c.start_worker()
    c.start_beat()
    job = c.expect(c.submit("redis-restart", epochs=EPOCHS), attempts=2)  # Celery may cancel the running task
    epoch = _checkpointed(c, job)
    c.stop_redis()
    c.start_redis()  # a restart: an empty Redis (no persistence), on the same port
    restarted = time.monotonic()
    after_s, attempt = _went_on(c, job, epoch, restarted)
    done = _trained_once(c, job, "Redis restart mid-job", epoch)
    if attempt > 1:  # handed back by the worker's parent, not taken back by the reconciler after LEASE_S
        assert after_s < c.settings.lease_s, after_s
        assert any(e.get("reason") == "broker connection lost" for e in c.events(job))
    print(f"Redis restart at epoch {epoch}: training went on {after_s:.1f} s later (attempt {attempt}); "
          f"the job ended with attempt {done['attempt']}, resumed from epoch "
          f"{done['metrics'].get('resumed_from_epoch')}")
    # The worker consumes again after the restart.
    _exactly_once(c, [c.submit("redis-restart", epochs=2)], "a job after the Redis restart")
    assert c.faults == 1


def test_flushall_mid_job_loses_nothing_and_trains_no_epoch_twice(pg_cluster):
    c = pg_cluster
    c.start_worker()
    c.start_beat()
    job = c.expect(c.submit("flush-mid-job", epochs=EPOCHS), attempts=2)
    queued = c.submit("flush-mid-job", epochs=2)  # waits behind it; its message goes with the flush
    epoch = _checkpointed(c, job)
    c.flushall()
    flushed = time.monotonic()
    after_s, attempt = _went_on(c, job, epoch, flushed)
    done = _trained_once(c, job, "FLUSHALL mid-job", epoch)
    _exactly_once(c, [queued], "the queued job's message flushed")
    print(f"FLUSHALL at epoch {epoch}: training went on {after_s:.1f} s later (attempt {attempt}); the job "
          f"ended with attempt {done['attempt']}")
    assert c.faults == 1


def test_a_cleanup_that_fails_while_celery_terminates_the_job_does_not_fail_the_job(cluster, tmp_path):
    """A Redis restart makes Celery terminate the running task's child (SIGTERM: billiard raises SystemExit
    in it). A library whose cleanup fails while that unwinds (TensorFlow's device scope, seen in CI:
    "Exiting device scope without proper scope nesting") turned the stop into a plain error, and the runner
    recorded it as the job's failure. The job is of a test-only kind (tests/faults/kinds/trainyard-crash,
    ``scoped``) whose trainer sits in such a scope until stopped: it must be handed back, not failed."""
    c = cluster
    target = worker_with_test_kinds(c, tmp_path, "scoped", "scoped")
    c.start_beat()
    with visible(target):  # the web knows the kind too, or the submit is refused
        job = c.expect(c.submit("scoped", kind="scoped", dataset="iris", epochs=5), JobStatus.CANCELLED, attempts=2)
    wait_until(lambda: (j := c.job(job))["status"] == "running" and j["progress"] > 0, timeout=budget(120),
               interval=0.1, what="the first attempt to train inside its scope")
    c.stop_redis()
    c.start_redis()

    def second_attempt():
        j = c.job(job)
        assert j["status"] != "failed", j["error"]  # the terminate's unwinding was recorded as the job's error
        return j["attempt"] == 2 and j["status"] == "running" and j
    wait_until(second_attempt, timeout=budget(120), interval=0.1, what="a second attempt to run the job")
    assert any(e.get("reason") == "broker connection lost" for e in c.events(job))  # the parent handed it back
    assert c.client.post(f"/api/v1/jobs/{job}/cancel").status_code == 202
    done = c.wait_done(job)
    assert (done["status"], done["attempt"], done["error"]) == ("cancelled", 2, None), done
    assert f"job {job} failed" not in c.logs()  # the runner recorded no failure (Celery still logs the error)
