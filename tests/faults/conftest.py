"""Fixtures of the fault-injection suite and its closing summary line."""
from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.faults.cluster import Cluster, make_cluster
from tests.faults.summary import SUMMARY_DIR
from tests.support import create_database, postgres_available, unavailable

__all__ = ["SUMMARY_DIR", "cluster", "pg_cluster"]


@pytest.fixture
def cluster(tmp_path, request) -> Iterator[Cluster]:
    """A cluster on SQLite; settings to override come as an indirect parameter, as for ``pg_cluster``."""
    yield from _cluster(tmp_path, request, **getattr(request, "param", {}))


@pytest.fixture
def pg_cluster(tmp_path, request) -> Iterator[Cluster]:
    """A cluster on a fresh PostgreSQL database (skipped, or failed under CI, where there is none). Settings
    to override come as an indirect parameter: ``@pytest.mark.parametrize("pg_cluster", [{...}], indirect=True)``."""
    if reason := postgres_available():
        unavailable(reason)
    url, drop = create_database("postgresql", tmp_path)
    try:
        yield from _cluster(tmp_path, request, url, **getattr(request, "param", {}))
    finally:
        drop()


def _cluster(tmp_path, request, database_url: str | None = None, **overrides) -> Iterator[Cluster]:
    c = make_cluster(tmp_path, database_url, **overrides)
    try:
        yield c
        if request.node.rep_call.failed if hasattr(request.node, "rep_call") else False:
            print(c.logs())
        # The harness had to restart a stuck process itself (Cluster.rescue): the scenario needed a person.
        assert c.manual_restarts == 0, f"{c.manual_restarts} manual restarts"
    finally:
        c.close()  # records the scenario in the summary, also when the test failed or timed out


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    rep = outcome.get_result()
    setattr(item, f"rep_{rep.when}", rep)
