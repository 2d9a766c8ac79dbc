"""Fixtures of the fault-injection suite and its closing summary line."""
from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from app.config import PROJECT_ROOT
from tests.faults.cluster import Cluster, make_cluster

SUMMARY_DIR = Path(os.environ.get("TRAINYARD_FAULT_SUMMARY", PROJECT_ROOT / "var" / "fault-summary"))


@pytest.fixture
def cluster(tmp_path, request) -> Iterator[Cluster]:
    c = make_cluster(tmp_path)
    yield c
    if request.node.rep_call.failed if hasattr(request.node, "rep_call") else False:
        print(c.logs())
    c.close()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    rep = outcome.get_result()
    setattr(item, f"rep_{rep.when}", rep)


def pytest_sessionstart(session):
    if not hasattr(session.config, "workerinput"):  # the controller (or a run without xdist)
        shutil.rmtree(SUMMARY_DIR, ignore_errors=True)


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    if hasattr(config, "workerinput") or not SUMMARY_DIR.exists():
        return
    rows = [json.loads(line) for f in SUMMARY_DIR.glob("*.jsonl") for line in f.read_text().splitlines()]
    if not rows:
        return
    total = {k: sum(r[k] for r in rows) for k in ("faults", "jobs", "lost", "duplicated")}
    terminalreporter.write_sep("=", "fault injection")
    terminalreporter.write_line(
        f"fault-injection summary: {len(rows)} scenarios, {total['faults']} faults injected, "
        f"{total['jobs']} jobs, {total['lost']} lost, {total['duplicated']} duplicated")
