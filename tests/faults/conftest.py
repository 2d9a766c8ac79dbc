"""Fixtures of the fault-injection suite and its closing summary line."""
from __future__ import annotations

import os
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
