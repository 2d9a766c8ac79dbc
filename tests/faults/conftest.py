"""Fixtures of the fault-injection suite and its closing summary line."""
from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.faults.cluster import SUMMARY_DIR, Cluster, make_cluster

__all__ = ["SUMMARY_DIR", "cluster"]


@pytest.fixture
def cluster(tmp_path, request) -> Iterator[Cluster]:
    c = make_cluster(tmp_path)
    try:
        yield c
        if request.node.rep_call.failed if hasattr(request.node, "rep_call") else False:
            print(c.logs())
    finally:
        c.close()  # records the scenario in the summary, also when the test failed or timed out


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    rep = outcome.get_result()
    setattr(item, f"rep_{rep.when}", rep)
