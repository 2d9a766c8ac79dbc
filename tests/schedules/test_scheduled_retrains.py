"""Scheduled retrains end to end: real beats, a real worker, the champion/challenger gate."""
from __future__ import annotations

import io
from datetime import timedelta

import numpy as np
from sqlalchemy import select, update

from app.models import Job, Schedule, ScheduleRun, utcnow
from app.services.usecases.schedule import fire_due_schedules
from tests.support import start_beat, upload, wait_for_job, wait_until

GOOD = {"epochs": 60, "learning_rate": 0.01, "batch_size": 16}
BAD = {"epochs": 1, "learning_rate": 1e-6, "batch_size": 16, "hidden_units": 2}


def _iris_csv(rows: np.ndarray, seed: int) -> bytes:
    """Iris as an uploaded CSV (a subset chosen by ``rows``), with a little noise per version."""
    from sklearn.datasets import load_iris

    data = load_iris()
    rng = np.random.default_rng(seed)
    out = io.StringIO()
    out.write(",".join([f"f{i}" for i in range(4)] + ["label"]) + "\n")
    for i in rows:
        x = data.data[i] + rng.normal(0, 0.05, 4)
        out.write(",".join(f"{v:.3f}" for v in x) + f",{data.target_names[data.target[i]]}\n")
    return out.getvalue().encode()


def _due_now(rt, schedule_id: int) -> None:
    with rt.session() as session:
        session.execute(update(Schedule).where(Schedule.id == schedule_id)
                        .values(next_due_at=utcnow() - timedelta(seconds=1)))


def _fire_and_wait(stack, schedule_id: int) -> dict:
    _due_now(stack.runtime, schedule_id)
    fired = fire_due_schedules(stack.runtime)
    assert [f.status for f in fired] == ["started"], fired
    return wait_for_job(stack.client, fired[0].job_id, timeout=240)


def _history(client, model):
    return client.get(f"/api/v1/models/{model}/aliases").get_json()


def test_gate_promotes_a_better_challenger_and_keeps_a_worse_one(sqlite_stack):
    c = sqlite_stack.client
    every = np.arange(150)
    assert upload(c, "gate-iris", "tabular", _iris_csv(every[::2], 1)).status_code == 201
    r = c.post("/api/v1/schedules", json={"name": "gate", "model_name": "gated", "kind": "mlp",
                                          "dataset": "gate-iris", "params": GOOD, "cron": "0 3 * * *"})
    assert r.status_code == 201, r.get_json()
    sid = r.get_json()["id"]

    first = _fire_and_wait(sqlite_stack, sid)  # no champion yet: promoted
    assert first["status"] == "succeeded", first["error"]
    h = _history(c, "gated")
    assert h["aliases"] == {"production": 1}
    assert h["history"][0]["action"] == "auto-promote" and "no version holds production" in h["history"][0]["reason"]

    # New data arrives (another version of the dataset) and the schedule trains a worse model on it.
    assert upload(c, "gate-iris", "tabular", _iris_csv(every, 2)).status_code == 201
    c.patch(f"/api/v1/schedules/{sid}", json={"params": BAD})
    worse = _fire_and_wait(sqlite_stack, sid)
    assert worse["status"] == "succeeded", worse["error"]
    h = _history(c, "gated")
    assert h["aliases"] == {"production": 1}  # not promoted
    kept = h["history"][0]
    assert kept["action"] == "gate-kept" and kept["to_version"] == 2 and kept["from_version"] == 1
    assert kept["details"]["champion_metric_source"] == "re-evaluated on the new test rows"
    assert kept["details"]["challenger_metric"] < kept["details"]["champion_metric"]
    assert "not better" in kept["reason"]

    c.patch(f"/api/v1/schedules/{sid}", json={"params": {**GOOD, "epochs": 120}, "min_improvement": 0.0})
    # A better one: the champion v1 is re-measured on the new data's test rows, the challenger beats it.
    # (If v1 happens to be perfect already, nothing can beat it: then the gate must keep it.)
    better = _fire_and_wait(sqlite_stack, sid)
    assert better["status"] == "succeeded", better["error"]
    h = _history(c, "gated")
    decision = h["history"][0]
    champion, challenger = decision["details"]["champion_metric"], decision["details"]["challenger_metric"]
    if challenger > champion:
        assert h["aliases"] == {"production": 3} and decision["action"] == "auto-promote"
    else:
        assert h["aliases"] == {"production": 1} and decision["action"] == "gate-kept"
    # A rollback ignores gate decisions: it undoes the last real move.
    page = c.get("/models/gated").get_data(as_text=True)
    assert "gate-kept" in page or "kept" in page


def test_gate_promotes_when_the_challenger_beats_the_recorded_metric(sqlite_stack):
    """Same data (same test rows): the champion's recorded metric is used; a worse one is kept, a better promoted."""
    c = sqlite_stack.client
    r = c.post("/api/v1/schedules", json={"name": "gate-same", "model_name": "gated-same", "kind": "mlp",
                                          "dataset": "iris", "params": BAD, "cron": "0 3 * * *"})
    sid = r.get_json()["id"]
    assert _fire_and_wait(sqlite_stack, sid)["status"] == "succeeded"  # v1 (weak) becomes production
    c.patch(f"/api/v1/schedules/{sid}", json={"params": GOOD})
    assert _fire_and_wait(sqlite_stack, sid)["status"] == "succeeded"
    h = _history(c, "gated-same")
    assert h["aliases"] == {"production": 2}, h["history"][0]
    assert h["history"][0]["details"]["champion_metric_source"].startswith("recorded")
    c.patch(f"/api/v1/schedules/{sid}", json={"params": BAD})
    assert _fire_and_wait(sqlite_stack, sid)["status"] == "succeeded"
    h = _history(c, "gated-same")
    assert h["aliases"] == {"production": 2} and h["history"][0]["action"] == "gate-kept"
    # Rolling back production skips the gate-kept row and returns to v1.
    r = c.post("/api/v1/models/gated-same/aliases/production/rollback", json={"reason": "test"})
    assert r.status_code == 200 and r.get_json()["version"] == 1, r.get_json()


def test_two_beats_fire_each_due_time_exactly_once(stack):
    """Two real beat processes tick every 0.2 s against one database: one run and one job per due time."""
    c, rt = stack.client, stack.runtime
    r = c.post("/api/v1/schedules", json={"name": f"beats-{stack.backend}", "model_name": f"beats-{stack.backend}",
                                          "kind": "mlp", "dataset": "iris", "params": {"epochs": 1},
                                          "cron": "* * * * *"})
    sid = r.get_json()["id"]
    beats = [start_beat(stack.settings, stack.tmp, f"{stack.backend}-{i}", SCHEDULE_TICK_S="0.2")
             for i in range(2)]
    try:
        wait_until(lambda: all("schedules: every" in b.log() for b in beats), timeout=60, what="both beats to tick")
        finished: list[int] = []
        for _ in range(6):  # force due times until two runs started and finished, each seen by both beats
            seen = _last_run_id(rt, sid)
            _due_now(rt, sid)
            run = wait_until(lambda after=seen: _run_after(rt, sid, after), timeout=60,
                             what="a beat to record a run of the schedule")
            if run.job_id is None:  # e.g. skipped: the run of a natural minute boundary is still going
                wait_until(lambda: not _active_jobs(rt, sid), timeout=120, what="the schedule's job to end")
                continue
            wait_for_job(c, run.job_id, timeout=120)
            wait_until(lambda run_id=run.id: _outcome(rt, run_id), timeout=30, what="the run to be settled")
            finished.append(run.id)
            if len(finished) == 2:
                break
        assert len(finished) == 2
        with rt.session() as session:
            runs = session.scalars(select(ScheduleRun).where(ScheduleRun.schedule_id == sid)).all()
            job_ids = session.scalars(select(Job.id).where(Job.schedule_id == sid)).all()
        started_runs = [r for r in runs if r.status == "started"]
        assert len({r.due_at for r in runs}) == len(runs)
        assert sorted(r.job_id for r in started_runs) == sorted(job_ids), [
            (r.due_at, r.fired_at, r.status, r.job_id) for r in runs]
        assert len(started_runs) >= 2 and all(r.outcome == "succeeded" for r in started_runs[:2])
    finally:
        for b in beats:
            b.stop()


def _last_run_id(rt, schedule_id) -> int:
    with rt.session() as session:
        return max(session.scalars(select(ScheduleRun.id).where(ScheduleRun.schedule_id == schedule_id)), default=0)


def _run_after(rt, schedule_id, after: int):
    """The first run recorded after run id ``after``."""
    with rt.session() as session:
        return session.scalars(select(ScheduleRun).where(ScheduleRun.schedule_id == schedule_id,
                                                         ScheduleRun.id > after).order_by(ScheduleRun.id)).first()


def _active_jobs(rt, schedule_id) -> list[str]:
    with rt.session() as session:
        return list(session.scalars(select(Job.id).where(Job.schedule_id == schedule_id,
                                                         Job.status.in_(("waiting", "queued", "running")))))


def _outcome(rt, run_id):
    with rt.session() as session:
        return session.get(ScheduleRun, run_id).outcome
