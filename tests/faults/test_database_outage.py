"""PostgreSQL really unreachable (a proxy in front of it, cut) while a job trains and registers.

A blink (5 s cut while a job trains) costs the job nothing: it succeeds, resuming from its checkpoint
if its lease lapsed meanwhile. During a longer outage every request is a 503 with Retry-After and one
log line (health names the database; the dashboard shows a "database unavailable" page); the job, held
between training and registration until the outage has begun, registers once the database is back and
shows its final epoch although its last progress writes were lost. Prints how long each side took to recover.
"""
from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Iterator

import pytest

from tests.faults.cluster import Cluster, budget, hold_before_finish_env, make_cluster
from tests.faults.proxy import Proxy
from tests.faults.test_faults import _exactly_once
from tests.support import create_database, postgres_available, unavailable, wait_until

pytestmark = pytest.mark.faults
PG_LOCAL = ("127.0.0.1", 5432)


@contextlib.contextmanager
def _behind_proxy(tmp_path, **settings) -> Iterator[tuple[Cluster, Proxy]]:
    """A cluster on a fresh PostgreSQL database that it reaches only through a proxy the test can cut."""
    if reason := postgres_available():
        unavailable(reason)
    url, drop = create_database("postgresql", tmp_path)
    proxy = Proxy(["127.0.0.1"], PG_LOCAL)
    c = make_cluster(tmp_path, database_url=url.replace("127.0.0.1:5432", f"127.0.0.1:{proxy.port}"), **settings)
    try:
        yield c, proxy
        print(c.logs())  # shown only when the test failed
        assert c.manual_restarts == 0
    finally:
        proxy.restore()  # a failed test may leave it cut; closing (which records the summary) drops the connections
        c.close()
        proxy.close()
        drop()


@pytest.fixture
def outage_cluster(tmp_path):
    with _behind_proxy(tmp_path, lease_s=60.0, heartbeat_interval_s=1.0) as (c, proxy):
        hold = tmp_path / "hold"
        hold.mkdir()
        c.start_worker(extra_env=hold_before_finish_env(hold))
        c.start_beat()
        yield c, proxy, hold


def test_postgresql_unreachable_for_five_seconds_while_a_job_trains(tmp_path):
    """The blink: a 5 s cut (longer than LEASE_S, 3 s here) mid-training; the job succeeds, trained once."""
    with _behind_proxy(tmp_path) as (c, proxy):
        c.start_worker()
        c.start_beat()
        job = c.expect(c.submit("db-blink", epochs=40), attempts=2)  # the cut outlasts LEASE_S
        epoch = c.wait_epoch(job, 3)["epoch"]
        reported = len(c.executions(job).epochs)
        proxy.cut()
        c.faults += 1
        time.sleep(5)
        proxy.restore()
        back = time.monotonic()
        wait_until(lambda: len(c.executions(job).epochs) > reported, timeout=budget(120), interval=0.1,
                   what="training to report again")
        resumed_s = time.monotonic() - back
        _exactly_once(c, [job], "PostgreSQL unreachable 5 s")
        done = c.job(job)
        if done["attempt"] > 1:  # taken back while its heartbeat could not reach the database: resumed
            assert (done["metrics"]["resumed_from_epoch"] or 0) >= epoch - 1, done["metrics"]
        print(f"PostgreSQL cut 5 s at epoch {epoch}: the job reported again {resumed_s:.1f} s after it was "
              f"back; ended with attempt {done['attempt']}, resumed from epoch "
              f"{done['metrics'].get('resumed_from_epoch')}")
        assert c.faults == 1


def _during_outage(c, caplog) -> None:
    health = c.client.get("/api/v1/health")
    assert health.status_code == 503 and health.headers["Retry-After"]
    assert health.get_json()["dependencies"] == {"database": "down", "redis": "ok"}
    api = c.client.get("/api/v1/jobs")
    assert api.status_code == 503 and api.headers["Retry-After"], api.get_data(as_text=True)
    assert api.get_json()["dependency"] == "database"
    page = c.client.get("/")
    assert page.status_code == 503 and page.headers["Retry-After"] and page.mimetype == "text/html"
    assert "Database unavailable" in page.get_data(as_text=True)
    lines = [r for r in caplog.records if "database unavailable" in r.getMessage()]
    assert len(lines) >= 3 and not any(r.exc_info for r in caplog.records)  # one line each, no traceback


def test_database_outage_is_a_503_and_a_job_registering_in_it_finishes_with_its_final_epoch(
        outage_cluster, caplog):
    c, proxy, hold = outage_cluster
    caplog.set_level(logging.WARNING)
    job = c.submit("outage", epochs=20)
    c.wait_epoch(job, 2, timeout=240)
    proxy.cut()
    c.faults += 1
    cut_at = time.monotonic()
    _during_outage(c, caplog)
    wait_until((hold / f"{job}.held").exists, timeout=budget(240), what="training to finish inside the outage")
    (hold / f"{job}.go").touch()
    worker_log = c.workers[0].log
    wait_until(lambda: "retrying in" in worker_log.read_text(errors="replace"), timeout=60,
               what="the registration to meet the outage")
    outage_s = time.monotonic() - cut_at
    proxy.restore()
    back = time.monotonic()
    wait_until(lambda: c.client.get("/api/v1/health").status_code == 200, timeout=30, interval=0.05,
               what="health to answer 200")
    web_s = time.monotonic() - back
    done = c.wait_done(job, timeout=60)
    worker_s = time.monotonic() - back
    assert done["status"] == "succeeded"
    assert (done["epoch"], done["total_epochs"]) == (20, 20), done  # not the epoch its last progress write saw
    assert c.versions_of(job) == 1 and done["attempt"] == 1 and c.duplicated([job]) == {}
    print(f"outage {outage_s:.1f} s; after the database came back: web 200 in {web_s:.2f} s, "
          f"the held job registered in {worker_s:.1f} s")
    c.stop_redis()  # health names Redis too, and stays 200 (degraded): pages and reads still work
    health = c.client.get("/api/v1/health")
    assert health.status_code == 200 and health.get_json()["dependencies"] == {"database": "ok", "redis": "down"}
    assert health.get_json()["status"] == "degraded"
    assert c.faults == 2  # the cut, and Redis stopped
