"""A job killed at the hard time limit fails at once, saying so; it is not retried as a lost worker."""
from __future__ import annotations

import pytest

from app.domain.status import JobStatus
from tests.support import wait_until

pytestmark = pytest.mark.faults


def test_the_hard_time_limit_fails_the_job_at_once_with_the_reason(tmp_path):
    from tests.faults.cluster import make_cluster

    # The soft limit (checkpoint and fail) is out of reach, so Celery's parent kills the child at 8 s.
    c = make_cluster(tmp_path, soft_time_limit_s=3600, hard_time_limit_s=8)
    try:
        c.start_worker()
        c.start_beat()
        wait_until(lambda: any(w["pool_state"] == "ready" for w in c.client.get("/api/v1/workers").get_json()["items"]),
                   timeout=180, what="the worker's child to finish importing TensorFlow")
        job = c.expect(c.submit("hard-limit", epochs=1000), JobStatus.FAILED)  # the summary's ledger
        done = c.wait_done(job, timeout=120)
        assert done["status"] == "failed", done
        assert done["error"].startswith("time limit: the job ran past HARD_TIME_LIMIT_S (8 s)"), done["error"]
        assert done["attempt"] == 1 and c.versions_of(job) == 0  # failed where it died, not retried
        assert "Hard time limit (8s) exceeded" in c.workers[0].log.read_text(errors="replace")
    finally:
        c.close()
