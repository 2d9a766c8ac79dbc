"""The job-status table and its one guarded transition, on a real database (SQLite and PostgreSQL)."""
from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from app.domain.status import ACTIVE, FINISHED, TRANSITIONS, IllegalTransition, JobStatus
from app.models import Job, JobEvent
from app.services import claims, submission
from app.services.transitions import transition
from tests.support import train_body


def _status_events(session, job_id: str) -> list[dict]:
    return list(session.scalars(select(JobEvent.payload).where(JobEvent.job_id == job_id, JobEvent.kind == "status")
                                .order_by(JobEvent.id)))


def _queued_job(rt, model_name: str) -> str:
    with rt.session() as s:
        job, _ = submission.submit_train_job(s, train_body(model_name))
    return job.id


def test_the_table_covers_every_status_and_a_finished_job_goes_nowhere():
    assert set(TRANSITIONS) == set(JobStatus)
    assert set(ACTIVE) | set(FINISHED) == set(JobStatus)
    assert all(not TRANSITIONS[s] for s in FINISHED)
    assert json.dumps({"status": JobStatus.RUNNING}) == '{"status": "running"}'  # the wire format is the word


def test_a_move_the_table_does_not_allow_is_refused_before_the_database(db_stack, model_name):
    rt = db_stack.runtime
    job_id = _queued_job(rt, model_name)
    with rt.session() as s, pytest.raises(IllegalTransition):
        transition(s, job_id, JobStatus.QUEUED, JobStatus.SUCCEEDED)  # skipping running
    with rt.session() as s, pytest.raises(IllegalTransition):
        transition(s, job_id, (JobStatus.QUEUED, JobStatus.FAILED), JobStatus.RUNNING)  # one bad source is enough
    with rt.session() as s:
        assert s.get(Job, job_id).status == JobStatus.QUEUED
        assert [e["status"] for e in _status_events(s, job_id)] == ["queued"]


def test_a_guarded_transition_loses_against_a_changed_attempt(db_stack, model_name):
    rt = db_stack.runtime
    job_id = _queued_job(rt, model_name)
    with rt.session() as s:
        first = claims.claim_job(s, job_id, "w1")
    with rt.session() as s:  # the job went back to the queue and a second worker claimed it: attempt 2
        assert transition(s, job_id, JobStatus.RUNNING, JobStatus.QUEUED, attempt=first.attempt,
                          event={"reason": "test"})
        second = claims.claim_job(s, job_id, "w2")
    assert (first.attempt, second.attempt) == (1, 2)
    with rt.session() as s:  # the stale first attempt can no longer fail the job
        assert not transition(s, job_id, JobStatus.RUNNING, JobStatus.FAILED, attempt=first.attempt,
                              values={"error": "stale"}, event={"error": "stale"})
    with rt.session() as s:
        job = s.get(Job, job_id)
        assert (job.status, job.attempt, job.worker, job.error) == ("running", 2, "w2", None)
        assert _status_events(s, job_id) == [
            {"status": "queued", "queue": "cpu"}, {"status": "running", "worker": "w1", "attempt": 1},
            {"status": "queued", "reason": "test"}, {"status": "running", "worker": "w2", "attempt": 2}]
    with rt.session() as s:  # the live attempt wins, and writes its event
        assert transition(s, job_id, JobStatus.RUNNING, JobStatus.FAILED, attempt=second.attempt,
                          values={"error": "boom"}, event={"error": "boom"})
    with rt.session() as s:
        assert s.get(Job, job_id).status == JobStatus.FAILED
        assert _status_events(s, job_id)[-1] == {"status": "failed", "error": "boom"}


def test_a_transition_from_a_status_the_job_has_left_changes_nothing(db_stack, model_name):
    rt = db_stack.runtime
    job_id = _queued_job(rt, model_name)
    with rt.session() as s:
        assert transition(s, job_id, (JobStatus.WAITING, JobStatus.QUEUED), JobStatus.CANCELLED)
    with rt.session() as s:  # a late claim: the job is no longer queued
        assert not transition(s, job_id, JobStatus.QUEUED, JobStatus.RUNNING, values={"worker": "late"})
        assert claims.claim_job(s, job_id, "late") is None
    with rt.session() as s:
        job = s.get(Job, job_id)
        assert (job.status, job.worker) == ("cancelled", None)
        assert [e["status"] for e in _status_events(s, job_id)] == ["queued", "cancelled"]
