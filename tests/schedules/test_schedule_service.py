"""Schedules against a real database with a controllable clock: firing, overlap, catch-up, pause."""
from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, update

from app.domain.errors import Invalid
from app.models import Job, Schedule, ScheduleRun
from app.services import schedules, submission
from app.services.usecases.schedule import fire_due_schedules
from app.services.usecases.submit import submit_training

T0 = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)


def _body(name: str, **extra):
    return {"name": name, "model_name": f"m-{name}", "kind": "mlp", "dataset": "iris",
            "params": {"epochs": 1}, "cron": "*/5 * * * *", **extra}


def _create(rt, name, now=T0, **extra):
    with rt.session() as session:
        return schedules.create(session, _body(name, **extra), now=now)


def _runs(rt, schedule_id):
    with rt.session() as session:
        return session.scalars(select(ScheduleRun).where(ScheduleRun.schedule_id == schedule_id)
                               .order_by(ScheduleRun.id)).all()


def _finish(rt, job_id, status, error=None):
    with rt.session() as session:
        session.execute(update(Job).where(Job.id == job_id).values(status=status, error=error))


def test_validation_names_every_bad_field(db_stack):
    with db_stack.runtime.session() as session, pytest.raises(Invalid) as exc:
        schedules.create(session, {"name": "bad name!", "kind": "mlp", "dataset": "iris:1", "model_name": "x",
                                   "cron": "61 * * *", "timezone": "Mars/Base", "overlap": "sometimes",
                                   "params": {"epochs": 0}})
    fields = exc.value.fields
    assert {"name", "dataset", "cron", "timezone", "overlap", "params.epochs"} <= set(fields), fields


def test_next_runs_follow_the_time_zone(db_stack):
    created = _create(db_stack.runtime, "tz", cron="0 3 * * *", timezone="Europe/Paris")
    assert created["next_runs"][0] == "2026-11-26T02:00:00Z"  # 03:00 in Paris is 02:00 UTC in winter
    assert len(created["next_runs"]) == 5


def test_fires_once_per_due_time(db_stack):
    rt = db_stack.runtime
    s = _create(rt, "once")
    assert fire_due_schedules(rt, now=T0 + timedelta(minutes=4)) == []  # not due yet
    fired = fire_due_schedules(rt, now=T0 + timedelta(minutes=5, seconds=2))
    assert [f.status for f in fired] == ["started"]
    assert fire_due_schedules(rt, now=T0 + timedelta(minutes=5, seconds=30)) == []  # same due time: nothing
    runs = _runs(rt, s["id"])
    assert len(runs) == 1 and runs[0].due_at == T0 + timedelta(minutes=5) and runs[0].job_id
    with rt.session() as session:
        job = session.get(Job, runs[0].job_id)
        assert job.schedule_id == s["id"] and job.created_by == "schedule:once" and job.status == "queued"


def test_concurrent_firers_start_one_run(db_stack):
    """Eight threads fire the same due time at once (two beats, exaggerated): one run, one job."""
    rt = db_stack.runtime
    s = _create(rt, "race")
    now = T0 + timedelta(minutes=5, seconds=1)
    barrier, results, errors = threading.Barrier(8), [], []

    def fire():
        barrier.wait()
        try:
            results.extend(fire_due_schedules(rt, now=now))
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=fire) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    assert len(results) == 1
    with rt.session() as session:
        assert session.scalars(select(Job.id).where(Job.schedule_id == s["id"])).all() == [results[0].job_id]
    assert len(_runs(rt, s["id"])) == 1


def test_overlap_skips_and_records(db_stack):
    rt = db_stack.runtime
    s = _create(rt, "overlap")
    first = fire_due_schedules(rt, now=T0 + timedelta(minutes=5))[0]
    with rt.session() as session:
        session.execute(update(Job).where(Job.id == first.job_id).values(status="running"))
    second = fire_due_schedules(rt, now=T0 + timedelta(minutes=10))[0]
    assert second.status == "skipped-overlap" and second.job_id is None
    assert first.job_id in _runs(rt, s["id"])[1].detail


def test_replace_overlap_cancels_the_previous_run(db_stack):
    rt = db_stack.runtime
    s = _create(rt, "replace", overlap="replace")
    first = fire_due_schedules(rt, now=T0 + timedelta(minutes=5))[0]
    second = fire_due_schedules(rt, now=T0 + timedelta(minutes=10))[0]
    assert second.status == "started"
    with rt.session() as session:
        assert session.get(Job, first.job_id).status == "cancelled"
    assert s["overlap"] == "replace"


@pytest.mark.parametrize("policy,expected,detail", [
    ("once", "started", "35 earlier due time(s) missed while nothing was firing; not run (no bursts)"),
    ("skip", "skipped-missed", "noticed 120 s late; catch-up policy is skip"),
])
def test_catch_up_after_downtime_is_one_run_never_a_burst(db_stack, policy, expected, detail):
    rt = db_stack.runtime
    s = _create(rt, f"catchup-{policy}", catchup=policy)
    back = T0 + timedelta(hours=3, minutes=2)  # 36 due times passed while nothing fired
    fired = fire_due_schedules(rt, now=back)
    assert [f.status for f in fired] == [expected]
    assert fired[0].due_at == T0 + timedelta(hours=3)  # the latest due time, not the oldest
    assert detail in (_runs(rt, s["id"])[0].detail or ""), _runs(rt, s["id"])[0].detail  # says why, per policy
    assert fire_due_schedules(rt, now=back + timedelta(seconds=5)) == []
    with rt.session() as session:
        assert session.get(Schedule, s["id"]).next_due_at == T0 + timedelta(hours=3, minutes=5)


def test_pauses_itself_after_consecutive_failures(db_stack):
    rt = db_stack.runtime
    s = _create(rt, "fails", max_failures=2)
    a = fire_due_schedules(rt, now=T0 + timedelta(minutes=5))[0]
    _finish(rt, a.job_id, "failed", "Traceback...\nValueError: boom")
    b = fire_due_schedules(rt, now=T0 + timedelta(minutes=10))[0]
    assert b.status == "started"
    _finish(rt, b.job_id, "failed", "Traceback...\nValueError: boom again")
    fire_due_schedules(rt, now=T0 + timedelta(minutes=11))  # settles b: second failure in a row
    with rt.session() as session:
        got = schedules.get_schedule(session, s["id"], now=T0)
    assert got["enabled"] is False
    assert "after 2 consecutive failed runs" in got["paused_reason"] and "boom again" in got["paused_reason"]
    assert [r["outcome"] for r in got["runs"]] == ["failed", "failed"]
    assert fire_due_schedules(rt, now=T0 + timedelta(minutes=20)) == []  # paused: nothing fires
    with rt.session() as session:  # resuming clears the count and starts from the next due time
        resumed = schedules.set_enabled(session, s["id"], True, now=T0 + timedelta(minutes=21))
    assert resumed["enabled"] and resumed["consecutive_failures"] == 0 and resumed["paused_reason"] is None
    assert resumed["next_due_at"] == "2026-11-25T10:25:00Z"


def test_a_success_resets_the_failure_count(db_stack):
    rt = db_stack.runtime
    s = _create(rt, "flaky", max_failures=2)
    a = fire_due_schedules(rt, now=T0 + timedelta(minutes=5))[0]
    _finish(rt, a.job_id, "failed", "x")
    b = fire_due_schedules(rt, now=T0 + timedelta(minutes=10))[0]
    _finish(rt, b.job_id, "succeeded")
    c = fire_due_schedules(rt, now=T0 + timedelta(minutes=15))[0]
    _finish(rt, c.job_id, "failed", "x")
    fire_due_schedules(rt, now=T0 + timedelta(minutes=16))
    with rt.session() as session:
        got = session.get(Schedule, s["id"])
        assert got.enabled and got.consecutive_failures == 1


def test_only_if_data_changed_skips_when_the_champion_used_the_newest_data(db_stack):
    rt = db_stack.runtime
    s = _create(rt, "unchanged", only_if_data_changed=True)
    with rt.session() as session:  # a champion trained on iris's newest version
        from app.models import ModelVersion, RegisteredModel
        from app.services import aliases
        from app.services.datasets import resolve_dataset

        iris = resolve_dataset(session, "iris")
        model = RegisteredModel(name="m-unchanged")
        session.add(model)
        session.flush()
        job, _ = submission.submit_train_job(session, {"kind": "mlp", "dataset": "iris", "model_name": "m-unchanged"})
        session.add(ModelVersion(model_id=model.id, version=1, job_id=job.id, kind="mlp", dataset_id=iris.id,
                                 dataset_sha256=iris.sha256, params={}, metrics={"test_accuracy": 0.9}))
        session.execute(update(Job).where(Job.id == job.id).values(status="succeeded"))
        session.flush()
        aliases.promote(session, "m-unchanged", "production", 1, reason="seed")
    fired = fire_due_schedules(rt, now=T0 + timedelta(minutes=5))[0]
    assert fired.status == "skipped-unchanged"
    assert "still the newest version" in _runs(rt, s["id"])[0].detail


def test_edit_delete_and_preview_through_the_api(db_stack):
    c = db_stack.client
    r = c.post("/api/v1/schedules", json=_body("api"))
    assert r.status_code == 201, r.get_json()
    sid = r.get_json()["id"]
    r = c.patch(f"/api/v1/schedules/{sid}", json={"cron": "0 4 * * 1", "timezone": "America/New_York"})
    assert r.status_code == 200 and r.get_json()["cron"] == "0 4 * * 1"
    assert len(r.get_json()["next_runs"]) == 5
    r = c.patch(f"/api/v1/schedules/{sid}", json={"cron": "every day"})
    assert r.status_code == 422 and "cron" in r.get_json()["fields"]
    assert c.post(f"/api/v1/schedules/{sid}/pause").get_json()["enabled"] is False
    assert c.post(f"/api/v1/schedules/{sid}/resume").get_json()["enabled"] is True
    assert c.post("/api/v1/schedules", json=_body("api")).status_code == 422  # name taken
    r = c.get("/api/v1/schedules/preview?cron=0+12+*+*+*&timezone=Asia/Tokyo")
    assert r.status_code == 200 and r.get_json()["next_runs"][0].endswith("T03:00:00Z")
    assert c.get("/api/v1/schedules/preview?cron=nope").status_code == 422
    assert c.delete(f"/api/v1/schedules/{sid}").status_code == 204
    assert c.get(f"/api/v1/schedules/{sid}").status_code == 404


def test_a_user_cannot_slip_a_job_into_a_schedule_with_its_idempotency_key(db_stack):
    """Keys are scoped to who submits: a member who predicts a run's key gets a job of their own."""
    rt = db_stack.runtime
    s = _create(rt, "hijack")
    due = T0 + timedelta(minutes=5)
    mine, created = submit_training(rt, {"kind": "mlp", "dataset": "wine", "model_name": "m-hijack"},
                                    created_by="mem", idempotency_key=f"schedule-{s['id']}-"
                                                                      f"{due.strftime('%Y%m%dT%H%M%S.%f')}")
    assert created
    fired = fire_due_schedules(rt, now=due + timedelta(seconds=1))[0]
    assert fired.status == "started" and fired.job_id != mine.id
    with rt.session() as session:
        job = session.get(Job, fired.job_id)
        assert job.created_by == "schedule:hijack" and job.schedule_id == s["id"]
        assert session.get(Job, mine.id).schedule_id is None


def test_a_cron_that_is_never_due_is_refused_not_a_500(db_stack):
    c = db_stack.client
    r = c.get("/api/v1/schedules/preview?cron=0+0+30+2+*")
    assert r.status_code == 422 and "never due" in r.get_json()["fields"]["cron"]
    r = c.post("/api/v1/schedules", json=_body("never", cron="0 0 31 4 *"))
    assert r.status_code == 422 and "never due" in r.get_json()["fields"]["cron"]


def test_the_gate_compares_nothing_when_the_metric_changed_during_the_run(db_stack):
    from app.models import ModelVersion, RegisteredModel
    from app.services import aliases
    from app.services.datasets import resolve_dataset
    from app.services.gate import Measured, apply_gate

    rt = db_stack.runtime
    s = _create(rt, "edited", metric="test_loss", higher_is_better=False)
    with rt.session() as session:
        iris = resolve_dataset(session, "iris")
        model = RegisteredModel(name="m-edited")
        session.add(model)
        session.flush()
        rows = []
        for n, acc in ((1, 0.5), (2, 0.9)):
            job, _ = submission.submit_train_job(session, {"kind": "mlp", "dataset": "iris", "model_name": "m-edited"})
            rows.append(ModelVersion(model_id=model.id, version=n, job_id=job.id, kind="mlp", dataset_id=iris.id,
                                     dataset_sha256=iris.sha256, params={},
                                     metrics={"test_accuracy": acc, "test_loss": 1 - acc}))
        session.add_all(rows)
        session.flush()
        aliases.promote(session, "m-edited", "production", 1, reason="seed")
        schedule = session.get(Schedule, s["id"])
        details = apply_gate(session, schedule, "m-edited", rows[1],
                             Measured(rows[0].id, 0.5, "recorded", metric="test_accuracy"))
    assert details["decision"] == "kept" and "policy now uses test_loss" in details["champion_metric_source"]
