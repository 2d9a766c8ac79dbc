"""A cancel in a job's last moment, between training and registration, through a real worker.

The worker is held after training and publishing, before ``finish_training``, by a test-only
wrapper on its PYTHONPATH (tests/faults/hold_finish/sitecustomize.py; the product has no hook):
a cancel that arrives there wins (cancelled, no version); one that arrives after the version
committed is a 409 naming the version and is not audited.
"""
from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from app.domain.status import JobStatus
from app.models import AuditEntry
from tests.faults.cluster import Cluster, budget, hold_before_finish_env, make_cluster
from tests.support import create_database, postgres_available, unavailable, wait_until

pytestmark = pytest.mark.faults


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def held(request, tmp_path_factory):
    """A cluster whose worker stops before each registration until the test writes ``<job>.go``."""
    if request.param == "postgresql" and (reason := postgres_available()):
        unavailable(reason)
    tmp_path = tmp_path_factory.mktemp(f"late-cancel-{request.param}")
    url, drop = create_database(request.param, tmp_path)
    c = make_cluster(tmp_path, database_url=url)
    c.scenario = f"late cancel ({request.param})"  # both tests of the module share the cluster
    hold = tmp_path / "hold"
    hold.mkdir()
    c.start_worker(extra_env=hold_before_finish_env(hold))
    try:
        yield c, hold
        print(c.logs())  # shown only when a test failed
    finally:
        c.close()  # records the summary, however the tests ended
        drop()


def _held(hold: Path, job: str) -> None:
    wait_until((hold / f"{job}.held").exists, timeout=budget(240), what=f"job {job} to finish training")


def _cancel_audits(c: Cluster, job: str) -> int:
    with c.app.extensions["trainyard"].session() as s:
        rows = s.scalars(select(AuditEntry).where(AuditEntry.action == "job.cancel")).all()
    return sum(1 for r in rows if job in (r.target or ""))


def test_a_cancel_before_the_version_commits_wins(held):
    c, hold = held
    job = c.expect(c.submit("late-cancel", epochs=2), JobStatus.CANCELLED)
    _held(hold, job)  # trained and published; registration not yet called
    r = c.client.post(f"/api/v1/jobs/{job}/cancel")
    assert r.status_code == 202, r.get_data(as_text=True)
    assert _cancel_audits(c, job) == 1
    (hold / f"{job}.go").touch()
    assert c.wait_done(job)["status"] == "cancelled"
    assert c.versions_of(job) == 0 and c.duplicated([job]) == {}
    folder = c.settings.models_store / "artifacts" / job
    wait_until(lambda: not any(folder.glob("a*/*")), timeout=30, what="the cancelled attempt's files to go")


def test_a_cancel_after_the_version_commits_is_a_409_naming_it(held):
    c, hold = held
    job = c.submit("late-cancel", epochs=2)
    _held(hold, job)
    (hold / f"{job}.go").touch()
    assert c.wait_done(job)["status"] == "succeeded"
    r = c.client.post(f"/api/v1/jobs/{job}/cancel")
    assert r.status_code == 409
    body, version = r.get_json(), c.job(job)["version"]
    assert body["version"] == version and body["model_name"] == "late-cancel"
    assert f"late-cancel v{version}" in body["message"]
    assert _cancel_audits(c, job) == 0
    assert c.versions_of(job) == 1
