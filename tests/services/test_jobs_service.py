"""Job use-cases on a real database (SQLite and PostgreSQL): claims, fencing, versions, paging."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from app.domain.errors import Invalid, NotFound
from app.models import JobEvent
from app.services import claims, events, job_reads, registry, submission
from app.storage import StoredFile
from tests.support import train_body


def _submit(rt, name, **kw):
    with rt.session() as s:
        job, created = submission.submit_train_job(s, train_body(name), **kw)
    assert created or kw.get("idempotency_key")
    return job


def test_a_job_is_claimed_once_and_a_second_claim_gets_nothing(db_stack, model_name):
    rt = db_stack.runtime
    job = _submit(rt, model_name)
    with rt.session() as s:
        first = claims.claim_job(s, job.id, "w1")
    with rt.session() as s:
        second = claims.claim_job(s, job.id, "w2")
    assert first is not None and first.attempt == 1
    assert second is None
    with rt.session() as s:
        view = job_reads.get_job(s, job.id)
        kinds = [e["payload"].get("status") for e in events.job_events(s, job.id)]
    assert view.status == "running" and view.worker == "w1"
    assert kinds == ["queued", "running"]


def test_a_stale_attempt_can_write_no_progress_and_no_version(db_stack, model_name):
    rt = db_stack.runtime
    job = _submit(rt, model_name)
    with rt.session() as s:
        claimed = claims.claim_job(s, job.id, "w1")
    with rt.session() as s:
        assert claims.record_progress(s, job.id, claimed.attempt + 1, epoch=1, total_epochs=2,
                                      progress=0.5) is False
        assert registry.register_version(s, job.id, claimed.attempt + 1, [], {}, {}) is None
    with rt.session() as s:
        assert job_reads.get_job(s, job.id).version is None


def test_versions_are_numbered_per_model_and_one_per_job(db_stack, model_name):
    rt = db_stack.runtime
    numbers = []
    for _ in range(3):
        job = _submit(rt, model_name)
        with rt.session() as s:
            claimed = claims.claim_job(s, job.id, "w")
        files = [StoredFile("metrics.json", f"artifacts/{job.id}/metrics.json", 2, "0" * 64)]
        with rt.session() as s:
            registry.ensure_model(s, model_name)
        with rt.session() as s:
            v = registry.register_version(s, job.id, claimed.attempt, files, {"test_accuracy": 0.5}, {})
        numbers.append(v.version.version)
        with rt.session() as s:  # the same attempt registering again finds the job succeeded
            assert registry.register_version(s, job.id, claimed.attempt, files, {}, {}) is None
    assert numbers == [1, 2, 3]
    with rt.session() as s:
        assert [v.version for v in registry.list_versions(s, model_name)] == [3, 2, 1]
        assert job_reads.get_job(s, job.id).status == "succeeded"


def test_a_failure_is_recorded_with_its_reason(db_stack, model_name):
    rt = db_stack.runtime
    job = _submit(rt, model_name)
    with rt.session() as s:
        claimed = claims.claim_job(s, job.id, "w")
    with rt.session() as s:
        assert claims.fail_job(s, job.id, claimed.attempt, "Traceback...\nValueError: boom")
    with rt.session() as s:
        view = job_reads.get_job(s, job.id)
        last = s.scalars(select(JobEvent).where(JobEvent.job_id == job.id)
                         .order_by(JobEvent.id.desc())).first()
    assert view.status == "failed" and "boom" in view.error
    assert last.payload == {"status": "failed", "error": "ValueError: boom"}


def test_an_idempotency_key_returns_the_first_job(db_stack, model_name):
    rt = db_stack.runtime
    with rt.session() as s:
        a, created_a = submission.submit_train_job(s, train_body(model_name), idempotency_key="k-" + model_name)
    with rt.session() as s:
        b, created_b = submission.submit_train_job(s, train_body(model_name), idempotency_key="k-" + model_name)
    assert created_a and not created_b and a.id == b.id


def test_every_invalid_field_is_reported_at_once(db_stack):
    with db_stack.runtime.session() as s, pytest.raises(Invalid) as err:
        submission.submit_train_job(s, {"kind": "nope", "dataset": "missing", "model_name": "../x",
                                        "queue": "tpu"})
    assert set(err.value.fields) == {"kind", "dataset", "model_name", "queue"}


def test_keyset_pagination_walks_every_job_once(db_stack):
    rt = db_stack.runtime
    ids = {_submit(rt, f"page-{i}").id for i in range(7)}
    seen, cursor = [], None
    with rt.session() as s:
        while True:
            page, cursor = job_reads.list_jobs(s, limit=3, cursor=cursor)
            seen.extend(j.id for j in page)
            if not cursor:
                break
    assert len(seen) == 7 and set(seen) == ids


def test_unknown_job_is_not_found(db_stack):
    with db_stack.runtime.session() as s, pytest.raises(NotFound):
        job_reads.get_job(s, "no-such-job")


def test_filters_and_oldest_first_paging(db_stack):
    rt = db_stack.runtime
    made = [_submit(rt, f"filter-{i % 2}").id for i in range(6)]
    seen, cursor = [], None
    with rt.session() as s:
        while True:
            page, cursor = job_reads.list_jobs(s, model_name="filter-0", oldest_first=True, limit=2, cursor=cursor)
            seen.extend(j.id for j in page)
            if not cursor:
                break
        assert seen == made[0::2]
        assert job_reads.list_jobs(s, kind="cnn")[0] == []
        assert len(job_reads.list_jobs(s, kind="mlp", model_name="filter-1")[0]) == 3


def test_hand_backs_do_not_use_up_attempts_but_lost_workers_do(db_stack, model_name):
    """Three workers shut down under the job (SIGTERM hand-backs), then one is lost: with MAX_ATTEMPTS 3
    the job still goes back to the queue. Lost twice more, it fails, counting only the lost attempts."""
    from datetime import timedelta

    from app.models import Job
    from app.services import lifecycle

    rt = db_stack.runtime
    job = _submit(rt, model_name)

    def claim_and(end):
        with rt.session() as s:
            claimed = claims.claim_job(s, job.id, "w")
            assert claimed is not None
            if end == "hand back":
                assert lifecycle.hand_back(s, job.id, claimed.attempt, "worker shutting down")
            else:  # lost: no heartbeat since long before the lease
                s.get(Job, job.id).heartbeat_at = None
        if end == "lost":
            with rt.session() as s:
                return lifecycle.reap_lost(s, timedelta(seconds=60), max_attempts=3)

    for _ in range(3):
        claim_and("hand back")
    assert claim_and("lost").requeued  # attempt 4 overall, the first one lost
    assert claim_and("lost").requeued
    reaped = claim_and("lost")
    assert reaped.failed == [job.id] and not reaped.requeued
    with rt.session() as s:
        view = job_reads.get_job(s, job.id)
    assert (view.status, view.attempt) == ("failed", 6) and "attempt 3 of 3" in view.error


def test_a_job_whose_process_its_worker_gave_up_is_handed_back_only_from_that_worker(db_stack, model_name):
    """The broker connection dropped and Celery terminated the job's process: the worker's parent hands the
    job back (no attempt used); a parent that is not running it, or a job already moved on, is untouched."""
    from app.services import lifecycle

    rt = db_stack.runtime
    job = _submit(rt, model_name)
    with rt.session() as s:
        assert not lifecycle.hand_back_running_on(s, job.id, "w1", "broker connection lost")  # not claimed
        claims.claim_job(s, job.id, "w1")
    with rt.session() as s:
        assert not lifecycle.hand_back_running_on(s, job.id, "w2", "broker connection lost")  # not w2's
        assert lifecycle.hand_back_running_on(s, job.id, "w1", "broker connection lost")
    with rt.session() as s:
        view = job_reads.get_job(s, job.id)
        assert not lifecycle.hand_back_running_on(s, job.id, "w1", "broker connection lost")  # queued now
        reasons = [e["payload"].get("reason") for e in events.job_events(s, job.id)]
    assert (view.status, view.attempt, view.worker) == ("queued", 1, None)
    assert reasons[-1] == "broker connection lost"
