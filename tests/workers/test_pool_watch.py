"""The parent's view of its job child: starting, ready, wedged, and how many children it started."""
from __future__ import annotations

from workers.host.pool_watch import PoolWatch, child_pids


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class Pool:
    """Children as the parent sees them; each counts itself when it starts, as workers.jobs.warmup does."""

    def __init__(self) -> None:
        self.children: set[int] = set()
        self.started = 0

    def fork(self, pid: int) -> None:
        self.children = {pid}
        self.started += 1


def test_states_follow_the_children_and_the_warm_pid():
    clock, pool, warm = Clock(), Pool(), [0]
    pool.fork(101)
    watch = PoolWatch(60, warm_pid=lambda: warm[0], started=lambda: pool.started,
                      children=lambda: set(pool.children), clock=clock)
    assert watch.observe().state == "starting"
    warm[0] = 101
    ready = watch.observe()
    assert (ready.state, ready.child_starts) == ("ready", 1)
    pool.fork(102)  # the child was killed; the parent forked another, not warm yet
    clock.now += 59
    assert watch.observe().state == "starting"
    clock.now += 2
    assert watch.observe().state == "starting"  # unready counts from when it was first seen unready
    clock.now += 59
    wedged = watch.observe()
    assert (wedged.state, wedged.child_starts) == ("wedged", 2)
    for pid in (103, 104, 105):  # a crash loop: every child dies before it is warm
        pool.fork(pid)
        assert watch.observe().state == "wedged"
    assert watch.observe().child_starts == 5
    pool.fork(106)
    pool.fork(107)  # two children between two beats: both are counted
    assert watch.observe().child_starts == 7
    warm[0] = 107
    back = watch.observe()
    assert back.state == "ready" and back.since > wedged.since


def test_child_pids_reads_this_process_children():
    import subprocess
    import sys

    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        import os

        assert proc.pid in child_pids(os.getpid())
    finally:
        proc.kill()
        proc.wait()
