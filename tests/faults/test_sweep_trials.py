"""Sweeps through real workers and real beats: trials are jobs on the queue, decisions are made once.

1. Two beats on PostgreSQL decide one adaptive sweep: it runs to its budget with exactly the expected trials,
   never more at once than its parallel budget, weak trials are stopped at a rung (recorded), and the best
   trial is registered with its lineage.
2. kill -9 of a trial's worker child: the trial resumes from its checkpoint and its epochs count once;
   cancelling the sweep then stops the running trial within an epoch and starts no other.
"""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from app.models import Job
from app.services import sweeps
from app.services.usecases.sweep import create_sweep, move_sweep, register_best
from tests.faults.cluster import budget
from tests.support import wait_until

pytestmark = pytest.mark.faults
FAST_SWEEPS = {"sweep_tick_s": 0.3}


def _sweep(c, sweep_id):
    with c.app.extensions["trainyard"].session() as s:
        return sweeps.get_sweep(s, sweep_id)


def _trial(c, sweep_id, number):
    trials = _sweep(c, sweep_id)["trials"]
    return trials[number] if len(trials) > number else None


def _most_at_once(jobs):
    """The largest number of the given jobs that were running at the same moment."""
    edges = sorted([(j["started_at"], 1) for j in jobs if j["started_at"]]
                   + [(j["finished_at"], -1) for j in jobs if j["started_at"] and j["finished_at"]])
    most = now = 0
    for _, step in edges:
        now += step
        most = max(most, now)
    return most


@pytest.mark.parametrize("pg_cluster", [FAST_SWEEPS], indirect=True)
def test_two_beats_run_an_adaptive_sweep_to_its_budget(pg_cluster):
    c = pg_cluster
    rt = c.app.extensions["trainyard"]
    budget(0)  # measure this machine's TensorFlow import now, not while the sweep runs
    c.start_worker()
    c.start_beat()
    second_beat = c._spawn(["beat", "--loglevel", "INFO", "--schedule", str(c.tmp / "beat2-schedule")], "beat2")
    try:
        _run_to_budget(c, rt)
    finally:
        second_beat.stop()


def _run_to_budget(c, rt):
    body = {"kind": "mlp", "dataset": "digits", "model_name": "swept", "metric": "val_accuracy",
            "strategy": "asha", "seed": 3,
            "space": {"learning_rate": [0.000001, 0.03], "hidden_units": [8, 32, 64], "batch_size": 32},
            "budget": {"trials": 6, "parallel": 2, "epochs": 6, "min_epochs": 1, "reduction_factor": 3}}
    sweep_id = create_sweep(rt, body, "admin")["id"]
    done = wait_until(lambda: (s := _sweep(c, sweep_id))["status"] == "finished" and s,
                      timeout=budget(400), interval=0.5, what="the sweep to finish")
    trials = done["trials"]
    assert [t["number"] for t in trials] == list(range(6))
    with rt.session() as s:
        assert s.scalar(select(func.count()).select_from(Job).where(Job.model_name == done["trials_model_name"])) == 6
    jobs = [c.job(t["job_id"]) for t in trials]
    assert _most_at_once(jobs) <= 2
    pruned = [t for t in trials if t["status"] == "pruned"]
    assert pruned, [(t["params"], t["values"]) for t in trials]
    for t, job in zip(trials, jobs, strict=True):
        assert job["status"] == {"pruned": "cancelled", "completed": "succeeded"}[t["status"]], t
        if t["status"] == "pruned":
            assert t["stopped_rung"] is not None and t["stopped_epoch"] >= 1 and t["epochs_run"] < 6
        else:
            assert t["epochs_run"] == 6 and sorted(t["values"]) == list(range(1, 7))
    assert done["stopped_early"] == len(pruned) and done["epochs_saved"] == sum(6 - t["epochs_run"] for t in pruned)
    registered = register_best(rt, sweep_id, "admin")
    best = max((t for t in trials if t["status"] == "completed"), key=lambda t: t["value"])
    assert registered["lineage"]["trial"] == best["number"] and registered["lineage"]["params"] == best["params"]
    version = c.client.get(f"/api/v1/models/swept/versions/{registered['version']}").get_json()
    assert version["framework"]["sweep"]["sweep"] == sweep_id and version["parent"]["model_name"] == "swept.sweep-1"


@pytest.mark.parametrize("cluster", [FAST_SWEEPS], indirect=True)
def test_a_killed_trial_resumes_counted_once_and_cancel_stops_the_sweep(cluster):
    c = cluster
    rt = c.app.extensions["trainyard"]
    budget(0)  # measure this machine's TensorFlow import now, not while the first trial trains
    worker = c.start_worker()
    c.start_beat()
    body = {"kind": "mlp", "dataset": "digits", "model_name": "killed", "strategy": "grid",
            "space": {"hidden_units": [16, 32, 64], "batch_size": 16},
            "budget": {"trials": 3, "parallel": 1, "epochs": 30}}
    sweep_id = create_sweep(rt, body, "admin")["id"]
    first = wait_until(lambda: _trial(c, sweep_id, 0), timeout=budget(30), what="the first trial")
    c.expect(first["job_id"], attempts=2)
    c.wait_epoch(first["job_id"], 3, timeout=180)
    assert c.kill_child(worker)
    job = c.wait_done(first["job_id"], timeout=240)
    assert job["status"] == "succeeded" and job["attempt"] == 2 and job["metrics"]["resumed_from_epoch"] >= 3
    second = wait_until(lambda: (t := _trial(c, sweep_id, 1)) and t, timeout=budget(30), what="trial 1")
    trial = wait_until(lambda: (t := _trial(c, sweep_id, 0))["status"] == "completed" and t,
                       timeout=budget(30), what="trial 0 to be read as completed")
    assert trial["epochs_run"] == 30 and sorted(trial["values"]) == list(range(1, 31))
    running = c.wait_epoch(second["job_id"], 1, timeout=120)
    c.expect(second["job_id"], ending="cancelled")
    move_sweep(rt, sweep_id, "cancel", "admin")
    stopped = c.wait_done(second["job_id"], timeout=30)
    assert stopped["status"] == "cancelled" and stopped["epoch"] <= running["epoch"] + 2
    wait_until(lambda: _trial(c, sweep_id, 1)["status"] == "cancelled", timeout=budget(30), what="trial 1 read")
    after = _sweep(c, sweep_id)
    assert after["status"] == "cancelled" and len(after["trials"]) == 2
