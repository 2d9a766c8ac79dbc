"""The parent's view of its job child: starting, ready, wedged, and how many children it started."""
from __future__ import annotations

from workers.host.pool_watch import PoolWatch, child_pids


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_states_follow_the_children_and_the_warm_pid():
    clock, children, warm = Clock(), {101}, [0]
    watch = PoolWatch(60, warm_pid=lambda: warm[0], children=lambda: set(children), clock=clock)
    assert watch.observe().state == "starting"
    warm[0] = 101
    ready = watch.observe()
    assert (ready.state, ready.child_starts) == ("ready", 1)
    children.clear()
    children.add(102)  # the child was killed; the parent forked another, not warm yet
    clock.now += 59
    assert watch.observe().state == "starting"
    clock.now += 2
    assert watch.observe().state == "starting"  # unready counts from when it was first seen unready
    clock.now += 59
    wedged = watch.observe()
    assert (wedged.state, wedged.child_starts) == ("wedged", 2)
    for pid in (103, 104, 105):  # a crash loop: every child dies before it is warm
        children.clear()
        children.add(pid)
        assert watch.observe().state == "wedged"
    assert watch.child_starts == 5
    warm[0] = 105
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
