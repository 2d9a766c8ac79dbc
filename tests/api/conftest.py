"""The stack the schemathesis tests share (test_openapi.py, test_openapi_stateful.py): one per test process."""
from __future__ import annotations

import pytest

from tests.api import fuzz
from tests.conftest import _make_stack


@pytest.fixture(scope="package")
def api_stack(redis_dbs, tmp_path_factory):
    """SQLite, a serve process, no worker (jobs stay queued), and the objects of fuzz.seed."""
    stack, drop = _make_stack("sqlite", redis_dbs.url("openapi"), tmp_path_factory.mktemp("openapi"))
    stack.serve()  # the whole platform: predictions reach a serve process, as in production
    stack.seeded = fuzz.seed(stack)
    yield stack
    print(f"\nschemathesis: {sum(fuzz.CASES.values())} requests over {len(fuzz.CASES)} operations, roles and modes")
    stack.serve_process.stop()
    stack.runtime.engine.dispose()
    drop()
