"""The lifecycle of a claimed job (app/services/lifecycle.py) on a real database, SQLite and PostgreSQL:
heartbeats that read stop requests, cancels at every stage, hand-back requests, the reaper's three
outcomes and the queued-jobs sweep."""
from __future__ import annotations

from datetime import timedelta

import pytest

from app.domain.errors import Conflict, NotFound
from app.domain.status import JobStatus
from app.models import Job
from app.services import claims, job_reads, lifecycle, registry, submission
from app.storage import StoredFile
from tests.support import train_body


def _submit(rt, body):
    with rt.session() as s:
        job, _ = submission.submit_train_job(s, body)
    return job


def _running(rt, name, worker="w1"):
    job = _submit(rt, train_body(name))
    with rt.session() as s:
        claimed = claims.claim_job(s, job.id, worker)
    return job.id, claimed.attempt


def _status(rt, job_id):
    with rt.session() as s:
        return job_reads.get_job(s, job_id).status


def _hierarchical(rt, name):
    """A two-stage job: (the waiting job, its stage 1)."""
    job = _submit(rt, {"kind": "hierarchical", "dataset": "pang_lee_polarity", "model_name": name,
                       "params": {"corpus": "lee_background"}})
    assert job.status == JobStatus.WAITING and job.depends_on
    return job.id, job.depends_on


def test_a_heartbeat_renews_the_lease_and_reads_the_stop_requests(db_stack, model_name):
    rt = db_stack.runtime
    job_id, attempt = _running(rt, model_name)
    with rt.session() as s:
        assert lifecycle.heartbeat(s, job_id, attempt) == lifecycle.Beat(owned=True)
        assert lifecycle.heartbeat(s, job_id, attempt + 1) == lifecycle.Beat(owned=False)  # a stale attempt
    with rt.session() as s:
        assert lifecycle.request_handback(s, "w1") == [job_id]
        assert lifecycle.request_handback(s, "nobody") == []
    with rt.session() as s:
        lifecycle.request_cancel(s, job_id, actor="alice")
    with rt.session() as s:
        assert lifecycle.heartbeat(s, job_id, attempt) == lifecycle.Beat(owned=True, cancel=True, handback=True)


def test_cancelling_a_queued_job_is_immediate_and_takes_its_waiting_dependents(db_stack, model_name):
    rt = db_stack.runtime
    waiting, stage1 = _hierarchical(rt, model_name)
    with rt.session() as s:
        view = lifecycle.request_cancel(s, stage1, actor="alice")
    assert view.status == JobStatus.CANCELLED and view.finished_at
    assert _status(rt, waiting) == JobStatus.CANCELLED


def test_cancelling_a_running_job_asks_its_worker_and_asking_twice_is_fine(db_stack, model_name):
    rt = db_stack.runtime
    job_id, attempt = _running(rt, model_name)
    for _ in range(2):
        with rt.session() as s:
            assert lifecycle.request_cancel(s, job_id).status == JobStatus.RUNNING
    with rt.session() as s:
        assert not lifecycle.finish_cancelled(s, job_id, attempt + 1)  # not this attempt's to finish
    with rt.session() as s:
        assert lifecycle.finish_cancelled(s, job_id, attempt)
    assert _status(rt, job_id) == JobStatus.CANCELLED
    with pytest.raises(Conflict, match="already cancelled"):
        with rt.session() as s:
            lifecycle.request_cancel(s, job_id)


def test_a_cancel_that_comes_after_the_version_is_a_conflict_naming_it(db_stack, model_name):
    rt = db_stack.runtime
    job_id, attempt = _running(rt, model_name)
    with rt.session() as s:
        registry.ensure_model(s, model_name)
    with rt.session() as s:
        registry.register_version(s, job_id, attempt, [StoredFile("m.json", "artifacts/m.json", 2, "0" * 64)],
                                  {"test_accuracy": 0.5}, {})
    with pytest.raises(Conflict, match="already succeeded") as refused:
        with rt.session() as s:
            lifecycle.request_cancel(s, job_id)
    assert refused.value.details == {"version": 1, "model_name": model_name}
    with pytest.raises(NotFound):
        with rt.session() as s:
            lifecycle.request_cancel(s, "no-such-job")


def _lose(rt, job_id):
    """The job's worker stopped beating long ago."""
    with rt.session() as s:
        s.get(Job, job_id).heartbeat_at = None


def test_the_reaper_requeues_fails_or_cancels_a_lost_job_and_leaves_a_live_one(db_stack, model_name):
    rt = db_stack.runtime
    lease = timedelta(seconds=60)
    live, live_attempt = _running(rt, f"{model_name}-live")
    with rt.session() as s:
        assert lifecycle.heartbeat(s, live, live_attempt).owned
    lost, _ = _running(rt, f"{model_name}-lost")
    out_of_attempts, _ = _running(rt, f"{model_name}-out")
    waiting, stage1 = _hierarchical(rt, f"{model_name}-h")
    with rt.session() as s:
        claims.claim_job(s, stage1, "w2")
    with rt.session() as s:
        lifecycle.request_cancel(s, stage1)
    for job_id in (lost, out_of_attempts, stage1):
        _lose(rt, job_id)
    with rt.session() as s:
        s.get(Job, out_of_attempts).attempt = 3
    with rt.session() as s:
        reaped = lifecycle.reap_lost(s, lease, max_attempts=3)
    assert sorted(reaped.requeued) == [(lost, "cpu")]
    assert reaped.failed == [out_of_attempts] and reaped.cancelled == [stage1]
    with rt.session() as s:
        failed = job_reads.get_job(s, out_of_attempts)
    assert failed.status == JobStatus.FAILED and "attempt 3 of 3" in failed.error
    assert _status(rt, waiting) == JobStatus.CANCELLED  # the cancelled stage takes its dependent along
    assert (_status(rt, live), _status(rt, lost)) == (JobStatus.RUNNING, JobStatus.QUEUED)
    with rt.session() as s:
        assert lifecycle.reap_lost(s, lease, max_attempts=3) == lifecycle.Reaped([], [], [])


def test_queued_jobs_lists_those_older_than_asked_and_whether_they_were_ever_dispatched(db_stack, model_name):
    rt = db_stack.runtime
    job = _submit(rt, train_body(model_name))
    with rt.session() as s:
        assert (job.id, "cpu", True) in lifecycle.queued_jobs(s, timedelta(seconds=-60))
        assert lifecycle.queued_jobs(s, timedelta(hours=1)) == []
