"""Fault injection on real processes: every accepted job finishes exactly once, or fails with a reason.

Each test has its own redis-server, workers, beat (which runs the reconciler) and
database; it breaks something on purpose and then checks the database and the store.
"""
from __future__ import annotations

import os
import random
import signal
import threading
import time
from pathlib import Path

import pytest

from app.config import Settings
from app.domain.status import JobStatus
from tests.faults.cluster import Cluster, budget
from tests.kinds.packages import pip_install, visible, worker_env
from tests.support import wait_until

pytestmark = pytest.mark.faults
CRASH_KIND = Path(__file__).parent / "kinds" / "trainyard-crash"


def _exactly_once(c: Cluster, job_ids: list[str], test: str) -> None:
    """Every job succeeded with one version, ran no more often than its scenario allows (attempts, and
    epochs trained: see ``Executions``); no checkpoint is left behind. ``test`` names the step."""
    jobs = [c.wait_done(j) for j in job_ids]
    assert [j["status"] for j in jobs] == ["succeeded"] * len(jobs), (test, [j["error"] for j in jobs])
    assert [c.versions_of(j) for j in job_ids] == [1] * len(job_ids), test
    assert c.duplicated(job_ids) == {}, test
    assert c.manual_restarts == 0, test  # nothing needed a person: see Cluster.rescue
    store = c.settings.models_store / "checkpoints"
    # The runner clears a job's checkpoints just after its ending commits, which is what wait_done saw.
    wait_until(lambda: _no_checkpoint_in(store), timeout=budget(10), interval=0.1,
               what="the finished jobs' checkpoints to be removed")


def worker_with_test_kinds(c: Cluster, tmp_path: Path, worker: str, kind: str) -> Path:
    """Install the test-only kinds (tests/faults/kinds/trainyard-crash) with pip, as an operator installs a
    kind, start worker ``worker`` with them and wait until it advertises ``kind``; returns the install folder
    (``visible(target)`` shows the kinds to the web too)."""
    import shutil

    source = shutil.copytree(CRASH_KIND, tmp_path / "trainyard-crash")  # pip builds in the tree: not in ours
    target = pip_install(source, tmp_path / "site")
    c.start_worker(worker, extra_env=worker_env(target))
    wait_until(lambda: kind in next((w.get("kinds") or {} for w in c.client.get("/api/v1/workers").get_json()
                                     ["items"] if w["name"].startswith(f"{worker}@")), {}),
               timeout=budget(120), what=f"the worker to advertise the {kind} kind")
    return target


def _no_checkpoint_in(store: Path) -> bool:
    try:
        return not store.exists() or not any(store.rglob("*.keras"))
    except FileNotFoundError:  # the runner removed a folder while this walked it: look again
        return False


def test_kill_9_of_the_child_mid_epoch_resumes_from_the_checkpoint(cluster):
    c = cluster
    w = c.start_worker()
    c.start_beat()
    job = c.expect(c.submit("kill-child"), attempts=2)
    c.wait_epoch(job, 5)
    c.kill_child(w)
    _exactly_once(c, [job], "kill -9 child")
    assert c.faults == 1
    events = c.events(job)
    running = [e for e in events if e.get("status") == "running"]
    assert [e["attempt"] for e in running] == [1, 2]
    assert any(e.get("reason") == "worker lost" for e in events)
    m = c.job(job)["metrics"]
    assert m["resumed_from_epoch"] >= 5  # training went on from the checkpoint, not from zero
    assert m["epochs_run"] == 40  # and the history continues: every epoch is there once


def test_kill_9_of_the_whole_worker_with_jobs_queued_behind(cluster):
    c = cluster
    w = c.start_worker()
    c.start_beat()
    jobs = [c.submit("kill-all", epochs=30)] + [c.submit("kill-all", epochs=3) for _ in range(3)]
    c.expect(jobs[0], attempts=2)  # the one it ran; the three behind it were never claimed
    c.wait_epoch(jobs[0], 3)
    c.kill_worker(w)
    c.start_worker()
    _exactly_once(c, jobs, "kill -9 worker")
    assert c.faults == 1


def test_flushall_while_queued_and_while_running(cluster):
    c = cluster
    c.start_beat()
    jobs = [c.submit("flush", epochs=8) for _ in range(3)]
    c.flushall()  # nothing consumes yet: every message is gone
    c.start_worker()
    c.wait_epoch(jobs[0], 2, timeout=60)
    c.flushall()  # one runs, two wait: their messages are gone again
    _exactly_once(c, jobs, "FLUSHALL")
    assert c.faults == 2


def test_redis_down_for_ten_seconds_during_a_job(cluster):
    c = cluster
    c.start_worker()
    c.start_beat()
    job = c.expect(c.submit("redis-down", epochs=60), attempts=2)  # its lease may lapse while Redis is away
    c.wait_epoch(job, 3)
    c.stop_redis()
    time.sleep(10)
    c.start_redis()
    _exactly_once(c, [job], "Redis down 10 s")
    done = c.job(job)
    print(f"Redis down 10 s: attempt {done['attempt']}, resumed from epoch {done['metrics']['resumed_from_epoch']}")
    if done["attempt"] > 1:  # the job was interrupted: it must go on from its checkpoint, not from epoch 0
        assert (done["metrics"]["resumed_from_epoch"] or 0) >= 3, done["metrics"]
    # The worker reconnected and consumes again.
    _exactly_once(c, [c.submit("redis-down", epochs=2)], "after Redis restart")
    assert c.faults == 1


def test_a_job_longer_than_the_visibility_timeout_is_trained_once(tmp_path):
    from tests.faults.cluster import make_cluster

    c = make_cluster(tmp_path, visibility_timeout_s=2, hard_time_limit_s=600)
    try:
        c.start_worker()
        c.start_worker()  # a second worker that would happily take a redelivered message
        c.start_beat()
        job = c.submit("long", epochs=60)
        c.faults += 1
        _exactly_once(c, [job], "longer than visibility timeout")  # one attempt: the redelivery claimed nothing
        assert c.executions(job).attempts == 1 and c.faults == 1
    finally:
        c.close()


def test_a_paused_zombie_writes_nothing(cluster):
    c = cluster
    a = c.start_worker("zombie")
    c.start_beat()
    job = c.expect(c.submit("zombie", epochs=40), attempts=2)
    c.wait_epoch(job, 3)
    c.faults += 1
    a.signal_group(signal.SIGSTOP)  # parent and child frozen, past the lease
    c.start_worker("rescuer")
    wait_until(lambda: c.job(job)["attempt"] == 2, timeout=budget(60), what="takeover")
    a.signal_group(signal.SIGCONT)
    _exactly_once(c, [job], "SIGSTOP zombie")
    j = c.job(job)
    assert j["worker"].startswith("rescuer@")
    store = c.settings.models_store / "artifacts" / job
    wait_until(lambda: not (store / "a1").exists(), timeout=30, what="the zombie to clean up")
    assert sorted(p.name for p in store.iterdir()) == ["a2"]
    assert c.faults == 1


def test_cancel_running_queued_and_during_a_retry(cluster):
    c = cluster
    w = c.start_worker()
    c.start_beat()
    running = c.expect(c.submit("cancel", epochs=200), JobStatus.CANCELLED)
    queued = c.expect(c.submit("cancel", epochs=2), JobStatus.CANCELLED, attempts=0)
    c.wait_epoch(running, 2)
    assert c.client.post(f"/api/v1/jobs/{queued}/cancel").get_json()["status"] == "cancelled"
    r = c.client.post(f"/api/v1/jobs/{running}/cancel")
    assert r.status_code == 202
    assert c.wait_done(running, timeout=60)["status"] == "cancelled"
    # During a retry: the worker dies, the job goes back to the queue, then is cancelled.
    retried = c.expect(c.submit("cancel", epochs=200), JobStatus.CANCELLED)
    c.wait_epoch(retried, 2)
    c.kill_worker(w)
    wait_until(lambda: c.job(retried)["status"] == "queued", timeout=budget(30), what="requeue after loss")
    assert c.client.post(f"/api/v1/jobs/{retried}/cancel").get_json()["status"] == "cancelled"
    # The cancelled ones wrote nothing; the worker (restarted) still serves.
    c.start_worker()
    after = c.submit("cancel", epochs=2)
    assert c.wait_done(after)["status"] == "succeeded"
    for job in (running, queued, retried):
        assert c.job(job)["status"] == "cancelled" and c.versions_of(job) == 0
    assert c.duplicated([running, queued, retried, after]) == {}
    assert c.faults == 1  # the worker's kill; the three cancels are requests, not faults
    assert c.client.post(f"/api/v1/jobs/{after}/cancel").status_code == 409


def test_sigterm_hands_the_job_back_and_another_worker_resumes_it(cluster):
    c = cluster
    a = c.start_worker("leaving")
    c.start_beat()
    job = c.expect(c.submit("sigterm", epochs=60), attempts=2)
    c.wait_epoch(job, 4)
    c.faults += 1
    started = time.monotonic()
    a.meant_to_stop = True
    a.popen.send_signal(signal.SIGTERM)
    a.popen.wait(60)
    assert time.monotonic() - started < 30  # it did not block until the job's end
    events = c.events(job)
    assert any(e.get("reason") == "worker shutting down" for e in events)
    c.start_worker("arriving")
    _exactly_once(c, [job], "SIGTERM hand-back")
    assert c.job(job)["metrics"]["resumed_from_epoch"] >= 4
    assert c.faults == 1


def test_a_crash_between_commit_and_publish_loses_nothing(cluster):
    from app import create_app
    from app.config import Settings

    c = cluster
    broken = create_app(Settings(**{**c.settings.__dict__, "redis_url": "redis://127.0.0.1:1/0"}))
    client = broken.test_client()
    client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {c.token}"
    # A 201: committed; the publish failed as if the process had died right there.
    job = c.post_job({"kind": "mlp", "dataset": "iris", "model_name": "gap", "params": {"epochs": 2}}, client)
    broken.extensions["trainyard"].engine.dispose()
    c.faults += 1
    c.start_worker()
    c.start_beat()
    _exactly_once(c, [job], "crash between commit and publish")
    assert c.faults == 1


def test_a_job_that_kills_its_worker_every_time_fails_after_max_attempts(cluster, tmp_path):
    """The job is of a test-only kind (tests/faults/kinds/trainyard-crash) whose trainer kill -9s its own
    process, installed with pip as an operator installs a kind: no hook in the product's code."""
    c = cluster
    target = worker_with_test_kinds(c, tmp_path, "crashy", "crash")
    c.start_beat()
    with visible(target):  # the web knows the kind too, or the submit is refused
        job = c.expect(c.submit("crasher", kind="crash", dataset="iris", epochs=5), JobStatus.FAILED,
                       attempts=c.settings.max_attempts)
    done = c.wait_done(job, timeout=120)
    assert done["status"] == "failed" and "worker lost" in done["error"]
    assert done["attempt"] == c.settings.max_attempts
    assert c.versions_of(job) == 0
    c.faults += c.settings.max_attempts  # each attempt killed its worker's child
    assert c.executions(job).attempts == c.settings.max_attempts and c.duplicated([job]) == {}
    # The worker keeps serving other jobs.
    assert c.wait_done(c.submit("fine", epochs=2))["status"] == "succeeded"


def test_soak_random_kills(tmp_path):
    from tests.faults.cluster import make_cluster

    n = int(os.environ.get("TRAINYARD_SOAK_JOBS", "40"))  # 200 in the nightly run (scripts/test.sh --long)
    # The chaos injects a fixed number of faults, then stops: the jobs left drain at full speed, so the soak's
    # length follows the faults it injects (each whole-worker kill costs a TensorFlow import), not a deadline.
    faults = int(os.environ.get("TRAINYARD_SOAK_FAULTS", "8"))  # 40 in the nightly run
    # Random kills may hit one job several times: MAX_ATTEMPTS is the loop breaker for a job that kills
    # its worker every time (tested above), not a budget for bad luck.
    c = make_cluster(tmp_path, max_attempts=10)
    try:
        workers = [c.start_worker(), c.start_worker()]
        c.start_beat()
        # Every submit must be a 201; a job may take up to MAX_ATTEMPTS attempts, and all the jobs together
        # at most one extra attempt per fault (a kill interrupts the one job its worker runs, if any).
        jobs = [c.expect(c.post_job({"kind": "mlp", "dataset": "iris", "model_name": f"soak-{i % 5}",
                                     "params": {"epochs": 2}}), attempts=10) for i in range(n)]
        rng = random.Random(1)
        stop = threading.Event()
        ticks, errors = [0], []

        def chaos() -> None:
            """Every tick injects exactly one fault; an exception here fails the test (below). The first
            comes at once, so even a short soak (a small TRAINYARD_SOAK_JOBS) injects one."""
            try:
                while ticks[0] < faults and not stop.wait(rng.uniform(6, 12) if ticks[0] else rng.uniform(0.5, 2)):
                    ticks[0] += 1
                    victim = rng.randrange(len(workers))
                    if rng.random() < 0.5 or not c.kill_child(workers[victim], wait_s=0):
                        c.kill_worker(workers[victim])
                        workers[victim] = c.start_worker()
                # The workers this thread started die with it (PR_SET_PDEATHSIG is per thread): it lives on,
                # idle, until the test ends.
                stop.wait()
            except BaseException as exc:  # reported by the test (below)
                errors.append(exc)

        # A 2-epoch job may start and end between two polls: wait for the first one to leave the queue.
        wait_until(lambda: any(c.job(j)["status"] != "queued" for j in jobs[:4]), timeout=budget(120),
                   what="the first soak job to start")
        thread = threading.Thread(target=chaos, daemon=True)
        thread.start()
        try:
            # The deadline stretches with the machine's load, within the suite's per-test limit (pytest.ini);
            # the soak normally ends minutes before it.
            wait_until(lambda: not errors and all(c.job(j)["status"] in ("succeeded", "failed") for j in jobs[-5:])
                       and all(c.job(j)["status"] in ("succeeded", "failed") for j in jobs),
                       timeout=min(budget(600), 1200), interval=2, what="the soak to finish")
        finally:
            chaos_cut_short = ticks[0] < faults  # the jobs were all done before its last fault
            stop.set()
            thread.join(30)
        assert not errors, f"the chaos thread died: {errors[0]!r}"
        assert not thread.is_alive(), "the chaos thread did not stop"
        _exactly_once(c, jobs, f"soak {n} jobs")
        # It injected once per tick, and all its faults unless every job was done before the last one.
        assert ticks[0] >= 1 and c.faults == ticks[0], (ticks[0], c.faults)
        assert ticks[0] == faults or chaos_cut_short, (ticks[0], faults)
        assert sum(c.executions(j).attempts for j in jobs) <= n + c.faults
    finally:
        c.close()


def test_soft_time_limit_checkpoints_and_fails_with_the_reason(tmp_path):
    from tests.faults.cluster import make_cluster

    c = make_cluster(tmp_path, soft_time_limit_s=3)
    try:
        c.start_worker()
        c.start_beat()
        job = c.expect(c.submit("slow", epochs=500), JobStatus.FAILED)
        done = c.wait_done(job, timeout=90)
        assert done["status"] == "failed" and "time limit" in done["error"]
        assert c.versions_of(job) == 0 and c.duplicated([job]) == {}
        c.faults += 1  # the time limit it ran into
        # The queues report says which worker last completed something (none yet) and what runs now.
        q = c.client.get("/api/v1/queues").get_json()
        cpu = next(i for i in q["items"] if i["queue"] == "cpu")
        assert cpu["last_completed"] is None and cpu["running"] == [] and q["broker_reachable"]
        # The 3 s limit is for the slow job only: on a loaded machine even a one-epoch job can take
        # longer, so the quick job runs on a second worker with the default limit.
        c.workers[0].stop()
        c.start_worker(extra_env={"SOFT_TIME_LIMIT_S": str(Settings().soft_time_limit_s)})
        quick = c.wait_done(c.submit("quick", epochs=1))
        assert quick["status"] == "succeeded", quick["error"]
        def cpu_queue() -> dict:
            return next(i for i in c.client.get("/api/v1/queues").get_json()["items"] if i["queue"] == "cpu")

        assert cpu_queue()["last_completed"]["worker"].startswith("w2@")
        # Empty once the worker has taken what is left: on a loaded machine the new worker's child can hold
        # the quick job's message past the cluster's 3 s lease while TensorFlow imports, so the reconciler
        # rings once more, and that second message (which claims nothing) may still wait here for a moment.
        wait_until(lambda: cpu_queue()["depth"] == 0, timeout=budget(60), what="the cpu queue to drain")
    finally:
        c.close()


def test_kill_9_mid_batch_job_resumes_from_the_last_finished_chunk(cluster):
    """A batch-inference job killed mid-way goes on from its last finished chunk; every row once."""
    import csv
    import io

    c = cluster
    w = c.start_worker()
    c.start_beat()
    client = c.client
    model = c.submit("batch-model", epochs=2)
    assert c.wait_done(model)["status"] == "succeeded"
    n = 60_000
    from sklearn.datasets import load_digits

    lines = ["id," + ",".join(load_digits().feature_names)]
    lines += [f"k{i}," + ",".join(str((i * 7 + j) % 17) for j in range(64)) for i in range(1, n + 1)]
    r = client.post("/api/v1/datasets?name=batch-rows&kind=tabular&purpose=scoring&key_column=id",
                    data="\n".join(lines).encode(), content_type="text/csv")
    assert r.status_code == 201, r.get_json()
    job = c.expect(c.post_job({"type": "infer", "model_name": "batch-model", "version": 1,
                               "dataset": "batch-rows", "params": {"chunk_rows": 100}}), attempts=2)
    wait_until(lambda: c.job(job)["metrics"].get("rows_done", 0) >= 5_000, timeout=budget(120), interval=0.05,
               what="the batch job to finish some chunks")
    c.kill_child(w)
    done = c.wait_done(job)
    assert done["status"] == "succeeded", done["error"]
    assert c.faults == 1 and c.duplicated([model, job]) == {}
    m = done["metrics"]
    assert m["resumed_after_chunks"] >= 50 and (m["rows"], m["scored"]) == (n, n)
    out = next(o for o in done["outputs"] if o["name"] == "predictions.csv")
    ids = [int(row["row_id"]) for row in csv.DictReader(io.StringIO(client.get(out["url"]).get_data(as_text=True)))]
    assert ids == list(range(1, n + 1))  # every row exactly once, in order
    # The chunk parts go after the final status commits: allow the worker a moment on a loaded machine.
    wait_until(lambda: not (c.settings.models_store / "batch" / job).exists(), timeout=30,
               what="the batch job's chunk parts to be removed")
