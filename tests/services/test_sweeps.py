"""Sweeps on a real database (SQLite and PostgreSQL), trials driven through the worker's own use-cases.

No worker process here: each trial's job is claimed, reports its epochs and finishes (or stops) through
claim / report.progress / finish_training / stop.cancelled, exactly the calls a worker makes.
"""
from __future__ import annotations

import threading

import pytest

from app.domain.errors import Conflict, Invalid
from app.models import SweepTrial
from app.services import job_reads, sweeps
from app.services.usecases import report, stop
from app.services.usecases.claim import claim
from app.services.usecases.finish import attempt_folder, finish_training
from app.services.usecases.sweep import advance_sweeps, create_sweep, move_sweep, register_best
from app.storage import StoredFile


def sweep_body(model_name, **overrides):
    body = {"kind": "mlp", "dataset": "iris", "model_name": model_name, "metric": "val_accuracy",
            "strategy": "grid", "space": {"hidden_units": [4, 8, 16], "batch_size": 16},
            "budget": {"trials": 10, "parallel": 2, "epochs": 4}}
    body.update(overrides)
    return body


def run_epochs(rt, job_id, values, attempt=None):
    """Claim (unless given an attempt) and report one epoch per value; returns the attempt."""
    if attempt is None:
        attempt = claim(rt, job_id, "w").job.attempt
    for epoch, value in values:
        assert report.progress(rt, job_id, attempt, epoch=epoch, total_epochs=4, fraction=epoch / 4,
                               metrics={"val_accuracy": value, "val_loss": 1 - value}, epoch_end=True)
    return attempt


def finish(rt, job_id, attempt, value):
    files = [StoredFile("metrics.json", f"{attempt_folder(job_id, attempt)}/metrics.json", 2, "0" * 64)]
    job = job_reads_get(rt, job_id)
    assert finish_training(rt, job_id, attempt, job.model_name, files, {"val_accuracy": value}, {}) is not None


def job_reads_get(rt, job_id):
    with rt.session() as s:
        return job_reads.get_job(s, job_id)


def get(rt, sweep_id):
    with rt.session() as s:
        return sweeps.get_sweep(s, sweep_id)


@pytest.mark.parametrize("change, field", [
    ({"space": {"dropout": {"min": 0.1, "max": 0.95}}}, "space.dropout.max"),
    ({"space": {}}, "space"),
    ({"space": {"dropout": 0.1}}, "space"),
    ({"space": {"nope": [1, 2]}}, "space.nope"),
    ({"space": {"epochs": [1, 2]}}, "space.epochs"),
    ({"metric": "perplexity"}, "metric"),
    ({"budget": {"trials": 0, "parallel": 1, "epochs": 2}}, "budget.trials"),
    ({"budget": {"trials": 3, "parallel": 0, "epochs": 2}}, "budget.parallel"),
    ({"budget": {"trials": 3, "parallel": 1, "epochs": 0}}, "budget.epochs"),
    ({"strategy": "grid", "space": {"dropout": {"min": 0.1, "max": 0.5}}}, "space"),
    ({"strategy": "bayes"}, "strategy"),
    ({"dataset": "no-such-data"}, "dataset"),
    ({"space": {"learning_rate": {"min": 0, "max": 0.1, "scale": "log"}}}, "space.learning_rate.min"),
])
def test_bad_requests_name_the_field(db_stack, model_name, change, field):
    with pytest.raises(Invalid) as caught:
        create_sweep(db_stack.runtime, sweep_body(model_name, **change), "alice")
    assert field in caught.value.fields


def test_a_grid_runs_every_point_once_within_its_parallel_budget(db_stack, model_name):
    rt = db_stack.runtime
    sweep = create_sweep(rt, sweep_body(model_name), "alice")
    assert sweep["budget"]["trials"] == 3  # the grid has 3 points, fewer than the budget's 10
    advance_sweeps(rt)
    advance_sweeps(rt)  # nothing new: two trials run, the parallel budget
    trials = get(rt, sweep["id"])["trials"]
    assert [t["params"] for t in trials] == [{"hidden_units": 4}, {"hidden_units": 8}]
    job = job_reads_get(rt, trials[0]["job_id"])
    assert job.params["epochs"] == 4 and job.params["batch_size"] == 16 and job.status == "queued"
    for t in trials:
        attempt = run_epochs(rt, t["job_id"], [(1, 0.5), (2, 0.6), (3, 0.7), (4, 0.7 + t["number"] / 10)])
        finish(rt, t["job_id"], attempt, 0.0)
    advance_sweeps(rt)
    third = get(rt, sweep["id"])["trials"][2]
    attempt = run_epochs(rt, third["job_id"], [(1, 0.5), (2, 0.5), (3, 0.5), (4, 0.6)])
    finish(rt, third["job_id"], attempt, 0.0)
    advance_sweeps(rt)
    done = get(rt, sweep["id"])
    assert done["status"] == "finished" and len(done["trials"]) == 3
    assert [t["status"] for t in done["trials"]] == ["completed"] * 3
    assert done["best_trial"] == 1 and done["best_value"] == pytest.approx(0.8)
    assert done["epochs_spent"] == 12 and done["epochs_saved"] == 0


def test_two_beats_deciding_at_once_start_each_trial_once(db_stack, model_name):
    rt = db_stack.runtime
    sweep = create_sweep(rt, sweep_body(model_name, budget={"trials": 3, "parallel": 3, "epochs": 2}), "a")
    barrier = threading.Barrier(4)

    def beat():
        barrier.wait()
        for _ in range(3):
            advance_sweeps(rt)

    threads = [threading.Thread(target=beat) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    trials = get(rt, sweep["id"])["trials"]
    assert [t["number"] for t in trials] == [0, 1, 2]
    assert len({t["job_id"] for t in trials}) == 3


def test_asha_stops_a_weak_trial_at_its_rung_and_a_resumed_epoch_is_not_counted_twice(db_stack, model_name):
    rt = db_stack.runtime
    body = sweep_body(model_name, strategy="asha", budget={"trials": 3, "parallel": 3, "epochs": 9},
                      space={"hidden_units": [4, 8, 16, 32], "learning_rate": {"min": 0.001, "max": 0.1,
                                                                               "scale": "log"}})
    sweep = create_sweep(rt, body, "alice")
    advance_sweeps(rt)
    trials = get(rt, sweep["id"])["trials"]
    assert len(trials) == 3
    strong = [run_epochs(rt, t["job_id"], [(1, 0.9)]) for t in trials[:2]]
    advance_sweeps(rt)
    first = run_epochs(rt, trials[2]["job_id"], [(1, 0.1), (2, 0.1)])
    run_epochs(rt, trials[2]["job_id"], [(2, 0.15)], attempt=first)  # epoch 2 again, as after a resume
    advance_sweeps(rt)
    weak = get(rt, sweep["id"])["trials"][2]
    assert weak["status"] == "pruned" and weak["stopped_rung"] == 0 and weak["stopped_epoch"] == 2
    assert weak["values"] == {1: 0.1, 2: 0.15} and weak["epochs_run"] == 2
    assert job_reads_get(rt, weak["job_id"]).status == "running"  # asked to stop, at its next batch
    assert stop.cancelled(rt, weak["job_id"], first)
    for t, attempt in zip(trials[:2], strong, strict=True):
        run_epochs(rt, t["job_id"], [(e, 0.9) for e in range(2, 10)], attempt=attempt)
        finish(rt, t["job_id"], attempt, 0.0)
    advance_sweeps(rt)
    done = get(rt, sweep["id"])
    assert done["status"] == "finished" and done["stopped_early"] == 1 and done["epochs_saved"] == 7
    assert done["epochs_spent"] == 9 + 9 + 2


def test_cancel_stops_every_trial_and_starts_no_more(db_stack, model_name):
    rt = db_stack.runtime
    sweep = create_sweep(rt, sweep_body(model_name), "alice")
    advance_sweeps(rt)
    trials = get(rt, sweep["id"])["trials"]
    attempt = run_epochs(rt, trials[0]["job_id"], [(1, 0.5)])  # one running, one still queued
    move_sweep(rt, sweep["id"], "cancel", "alice")
    assert job_reads_get(rt, trials[1]["job_id"]).status == "cancelled"
    assert stop.cancelled(rt, trials[0]["job_id"], attempt)  # the worker obeys at its next batch
    advance_sweeps(rt)
    after = get(rt, sweep["id"])
    assert after["status"] == "cancelled" and len(after["trials"]) == 2
    assert {t["status"] for t in after["trials"]} == {"cancelled"}
    with pytest.raises(Conflict):
        move_sweep(rt, sweep["id"], "resume", "alice")


def test_a_paused_sweep_starts_nothing_until_resumed(db_stack, model_name):
    rt = db_stack.runtime
    sweep = create_sweep(rt, sweep_body(model_name), "alice")
    move_sweep(rt, sweep["id"], "pause", "alice")
    advance_sweeps(rt)
    assert get(rt, sweep["id"])["trials"] == []
    move_sweep(rt, sweep["id"], "resume", "alice")
    advance_sweeps(rt)
    assert len(get(rt, sweep["id"])["trials"]) == 2


def test_the_best_trial_is_registered_with_its_lineage(db_stack, model_name):
    rt = db_stack.runtime
    sweep = create_sweep(rt, sweep_body(model_name, budget={"trials": 2, "parallel": 2, "epochs": 1}), "a")
    advance_sweeps(rt)
    with pytest.raises(Conflict):
        register_best(rt, sweep["id"], "alice")  # nothing completed yet
    for t, value in zip(get(rt, sweep["id"])["trials"], (0.4, 0.7), strict=True):
        finish(rt, t["job_id"], run_epochs(rt, t["job_id"], [(1, value)]), value)
    advance_sweeps(rt)
    registered = register_best(rt, sweep["id"], "alice")
    assert registered["model_name"] == model_name and registered["version"] == 1
    assert registered["lineage"]["trial"] == 1 and registered["lineage"]["params"] == {"hidden_units": 8}
    from app.services.registry import get_version
    with rt.session() as s:
        version = get_version(s, model_name, 1)
        assert s.query(SweepTrial).filter_by(sweep_id=sweep["id"]).count() == 2
    assert version.framework["sweep"]["sweep"] == sweep["id"] and version.parent["model_name"].endswith(
        f".sweep-{sweep['id']}")
    assert version.artifacts and version.metrics == {"val_accuracy": 0.7}
    with pytest.raises(Conflict):
        register_best(rt, sweep["id"], "alice")


@pytest.mark.parametrize("strategy", ["random", "hyperband"])
def test_random_and_hyperband_run_to_their_budget(db_stack, model_name, strategy):
    rt = db_stack.runtime
    body = sweep_body(model_name, strategy=strategy, budget={"trials": 5, "parallel": 2, "epochs": 9},
                      space={"hidden_units": {"min": 4, "max": 64}, "dropout": {"min": 0.0, "max": 0.5}})
    sweep = create_sweep(rt, body, "alice")
    for _ in range(20):
        advance_sweeps(rt)
        open_trials = [t for t in get(rt, sweep["id"])["trials"] if t["job_status"] in ("queued", "running")]
        for t in open_trials:  # each trial reports 3 epochs, beat judges, then it stops or goes on to the end
            value = 0.9 if t["number"] % 2 == 0 else 0.2
            attempt = run_epochs(rt, t["job_id"], [(e, value) for e in range(1, 4)])
            advance_sweeps(rt)
            if report.heartbeat(rt, t["job_id"], attempt).cancel:
                assert stop.cancelled(rt, t["job_id"], attempt)
                continue
            run_epochs(rt, t["job_id"], [(e, value) for e in range(4, 10)], attempt=attempt)
            finish(rt, t["job_id"], attempt, value)
    done = get(rt, sweep["id"])
    assert done["status"] == "finished" and len(done["trials"]) == 5
    assert all(4 <= t["params"]["hidden_units"] <= 64 and isinstance(t["params"]["hidden_units"], int)
               for t in done["trials"])
    assert done["best_value"] == pytest.approx(0.9)
    if strategy == "random":
        assert done["stopped_early"] == 0
    else:  # the weak trials meet the strong ones at a rung
        assert done["stopped_early"] >= 1
        assert all(t["stopped_rung"] is not None for t in done["trials"] if t["status"] == "pruned")


def test_the_wall_time_budget_stops_the_running_trials_and_ends_the_sweep(db_stack, model_name):
    from datetime import timedelta

    from app.models import utcnow

    rt = db_stack.runtime
    body = sweep_body(model_name, budget={"trials": 3, "parallel": 1, "epochs": 4, "wall_time_s": 60})
    sweep = create_sweep(rt, body, "alice")
    advance_sweeps(rt)
    first = get(rt, sweep["id"])["trials"][0]
    attempt = run_epochs(rt, first["job_id"], [(1, 0.5)])
    advance_sweeps(rt, now=utcnow() + timedelta(seconds=61))
    assert report.heartbeat(rt, first["job_id"], attempt).cancel  # asked to stop at its next batch
    assert stop.cancelled(rt, first["job_id"], attempt)
    advance_sweeps(rt, now=utcnow() + timedelta(seconds=62))
    done = get(rt, sweep["id"])
    assert done["status"] == "finished" and done["detail"] == "wall time spent" and len(done["trials"]) == 1
