"""The fault summary counts what it claims, manual restarts included: the harness's own recovery path
(``Cluster.rescue``) restarts a process that exited by itself, counts it, and the line says so."""
from __future__ import annotations

import sys

from tests.faults.cluster import Cluster, _start
from tests.faults.summary import read_rows, record_summary, summary_lines
from tests.support import wait_until


def test_the_line_adds_up_every_scenario_and_names_the_bad_ones(tmp_path):
    record_summary(tmp_path, "fine", 2, 3, lost=0, timed_out=0, executions=4, duplicated=0)
    record_summary(tmp_path, "needed a hand", 1, 1, lost=1, timed_out=1, executions=1, duplicated=0,
                   manual_restarts=2)
    lines = summary_lines(read_rows(tmp_path))
    assert lines[0] == ("fault-injection summary: 2 scenarios, 3 faults injected, 4 jobs (5 attempts started), "
                        "1 lost (1 never ended), 0 duplicated executions, 2 manual restarts")
    assert lines[1:] == ["  needed a hand: 1 lost (1 never ended), 0 duplicated executions, 2 manual restarts"]


def test_a_clean_run_reads_zero_manual_restarts(tmp_path):
    record_summary(tmp_path, "fine", 1, 1, lost=0, timed_out=0, executions=2, duplicated=0)
    assert summary_lines(read_rows(tmp_path)) == [
        "fault-injection summary: 1 scenarios, 1 faults injected, 1 jobs (2 attempts started), 0 lost "
        "(0 never ended), 0 duplicated executions, 0 manual restarts"]


def test_the_harness_restarts_a_process_that_died_by_itself_and_counts_it(tmp_path):
    """A worker that exits without the scenario stopping it is what a person would restart: the harness
    does (so the run goes on), and it shows as a manual restart in the scenario's row and the line."""
    c = Cluster(tmp_path, settings=None, redis_port=0, summary_dir=tmp_path / "summary", scenario="stuck")
    sleeper = [sys.executable, "-c", "import time; time.sleep(60)"]
    dies = _start(tmp_path / "w1.log", [sys.executable, "-c", "pass"], "w1", None)
    dies.argv = sleeper  # what a restart runs: a process that stays up
    stopped = _start(tmp_path / "w2.log", sleeper, "w2", None)
    c.workers += [dies, stopped]
    stopped.stop()  # stopped by the scenario on purpose: not rescued
    dies.popen.wait(30)
    try:
        assert c.rescue() == [c.workers[0]] and c.manual_restarts == 1
        assert c.workers[0] is not dies and c.workers[0].alive() and not c.workers[1].alive()
        assert c.rescue() == [] and c.manual_restarts == 1  # the restarted one is up: nothing more to do
        c.faults, c.expected = 1, {}
        c.close()  # records the row (the app is None here: the ledger is empty)
    finally:
        for p in c.workers:
            p.stop()
    wait_until(lambda: not c.workers[0].alive(), timeout=30, what="the restarted process to stop")
    assert summary_lines(read_rows(tmp_path / "summary"))[0].endswith("1 manual restarts")
