"""A worker heals itself when its job child dies, however slowly TensorFlow imports; a worker
that cannot heal shows as wedged (workers API, /metrics, health).

The workers here import TensorFlow through tests/faults/slow_import/sitecustomize.py, which
makes the first import in each child take TRAINYARD_TEST_TF_IMPORT_DELAY_S longer, as a
loaded machine or a CUDA host does (25 s and more). Celery's own 4 s limit for a child to
report UP is kept, so a child that still imported TensorFlow before reporting UP would be
killed over and over and these tests would time out.
"""
from __future__ import annotations

import os
import re
import time
from pathlib import Path

import pytest

from tests.faults.test_faults import _exactly_once
from tests.support import wait_until

pytestmark = pytest.mark.faults

SLOW_IMPORT = str(Path(__file__).parent / "slow_import")
IMPORT_DELAY_S = 8.0


def _slow_worker_env(delay_s: float, **settings: str) -> dict[str, str]:
    from app.config import PROJECT_ROOT

    return {"PYTHONPATH": f"{SLOW_IMPORT}:{PROJECT_ROOT}", "TRAINYARD_TEST_TF_IMPORT_DELAY_S": str(delay_s),
            "WORKER_CHILD_UP_TIMEOUT_S": "4", "WORKER_BEAT_S": "0.3", **settings}


def _worker_row(c, name_prefix: str) -> dict:
    items = c.client.get("/api/v1/workers").get_json()["items"]
    return next((w for w in items if w["name"].startswith(name_prefix)), {})


def test_a_killed_child_comes_back_by_itself_while_tensorflow_imports_slowly(cluster):
    c = cluster
    w = c.start_worker("slow", extra_env=_slow_worker_env(IMPORT_DELAY_S))
    c.start_beat()
    job = c.expect(c.submit("slow-import", epochs=30), attempts=2)
    c.wait_epoch(job, 3, timeout=180)
    assert wait_until(lambda: _worker_row(c, "slow@").get("pool_state") == "ready", timeout=30,
                      what="the first child to report ready")
    killed_at = time.monotonic()
    c.kill_child(w)
    # The replacement child reports UP at once, imports TensorFlow in the background, then claims
    # the job again (attempt 2) once the dead attempt's lease has lapsed.
    wait_until(lambda: any(e.get("status") == "running" and e.get("attempt") == 2 for e in c.events(job)),
               timeout=IMPORT_DELAY_S + 60, interval=0.2, what="attempt 2 to start")
    back_after = time.monotonic() - killed_at
    print(f"attempt 2 started {back_after:.1f} s after the kill (import slowed to {IMPORT_DELAY_S} s)")
    _exactly_once(c, [job], "kill -9 child, slow TensorFlow import")
    assert c.faults == 1
    assert c.job(job)["metrics"]["resumed_from_epoch"] >= 3
    log = w.log.read_text(errors="replace")
    assert "Timed out waiting for UP message" not in log
    row = wait_until(lambda: (r := _worker_row(c, "slow@")).get("pool_state") == "ready" and r, timeout=30,
                     what="the replacement child to report ready")
    assert row["child_starts"] >= 2 and not row["wedged"]
    # The promise in docs/reliability.md: back within the child's start-up + 10 s (+ LEASE_S, after which
    # the dead attempt is taken back). Start-up is measured, not assumed: the replacement child logs how
    # long its import took, however loaded the machine is.
    imports = [float(x) for x in re.findall(r"TensorFlow imported in ([0-9.]+) s", log)]
    assert len(imports) >= 2, imports  # the first child's import, then the replacement's
    assert back_after < imports[-1] + 10 + c.settings.lease_s, (back_after, imports)


def test_a_worker_whose_child_never_gets_ready_shows_as_wedged(cluster):
    c = cluster
    c.rescue_wedged = False  # wedged on purpose: not a worker the harness restarts
    c.start_worker("stuck", extra_env=_slow_worker_env(3600, WORKER_WEDGED_AFTER_S="3"))
    row = wait_until(lambda: (r := _worker_row(c, "stuck@")).get("wedged") and r, timeout=90,
                     what="the worker to show as wedged")
    assert row["pool_state"] == "wedged" and row["alive"]
    health = c.client.get("/api/v1/health").get_json()
    assert health["status"] == "degraded" and health["workers"]["wedged"] == 1
    metrics = c.client.get("/metrics").get_data(as_text=True)
    assert f'trainyard_worker_wedged{{worker="{row["name"]}"}} 1.0' in metrics
    page = c.client.get("/workers").get_data(as_text=True)
    assert 'class="pool-wedged"' in page and ">wedged</span>" in page


def test_a_warm_shutdown_while_the_child_imports_gives_the_job_back_unclaimed(cluster):
    import signal

    c = cluster
    w = c.start_worker("leaving", extra_env=_slow_worker_env(IMPORT_DELAY_S))
    c.start_beat()
    job = c.submit("leaving", epochs=40)
    wait_until(lambda: f"trainyard.train[{job}] received" in w.log.read_text(errors="replace"), timeout=60,
               interval=0.1, what="the worker to receive the job")
    w.meant_to_stop = True
    os.kill(w.popen.pid, signal.SIGTERM)  # a deploy: the parent is asked to stop while its child imports
    c.faults += 1
    w.popen.wait(120)  # it leaves once the import is done, without training 40 epochs first
    j = c.job(job)
    assert j["status"] == "queued" and j["attempt"] == 0, j  # no attempt used: it was never claimed
    # Either the child got the task and rejected it back to the queue, or the parent had not handed it on yet
    # and restored the unacknowledged message as it left: both give the job back unclaimed.
    log = w.log.read_text(errors="replace")
    assert "worker shutting down before the claim" in log or "Restoring 1 unacknowledged message(s)" in log, log
    c.start_worker()
    _exactly_once(c, [job], "warm shutdown during the TensorFlow import")
    assert [e["attempt"] for e in c.events(job) if e.get("status") == "running"] == [1]
