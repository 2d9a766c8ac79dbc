"""The OpenAPI description is served, covers every /api/v1 route, and holds: schemathesis calls every
operation with generated (valid and invalid) requests as an admin and fails on any 5xx or any response
that does not match the description.
"""
from __future__ import annotations

import re
import traceback
from collections import Counter

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.conftest import _make_stack

MAX_EXAMPLES = 15
CASES: Counter[str] = Counter()


@pytest.fixture(scope="module")
def api_stack(redis_dbs, tmp_path_factory):
    stack, drop = _make_stack("sqlite", redis_dbs.url("openapi"), tmp_path_factory.mktemp("openapi"))
    stack.serve()  # the whole platform: predictions reach a serve process, as in production
    yield stack
    print(f"\nschemathesis: {sum(CASES.values())} cases over {len(CASES)} operations")
    stack.serve_process.stop()
    stack.runtime.engine.dispose()
    drop()


def _operations(stack):
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", stack.app, headers=stack.auth("admin"))
    return [result.ok() for result in schema.get_all_operations()]


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_the_api_keeps_its_description(api_stack, mode):
    """Every operation, MAX_EXAMPLES generated requests each (schemathesis' pytest plugin is not used:
    it does not run under pytest 9 yet, so the cases are drawn with Hypothesis directly)."""
    auth = api_stack.auth("admin")
    checks = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
    failures = []
    for op in _operations(api_stack):
        @given(case=op.as_strategy(generation_mode=mode))
        @settings(max_examples=MAX_EXAMPLES, deadline=None, derandomize=True, database=None,
                  suppress_health_check=list(HealthCheck))
        def check(case):
            CASES[f"{case.method} {case.path} {mode.value}"] += 1
            case.call_and_validate(headers=auth, checks=checks)

        try:
            check()
        except Unsatisfiable:  # no parameters or body to make invalid (e.g. GET /health): nothing to try
            continue
        except Exception as exc:  # collect all operations' failures, then report them together
            failures.append(f"{op.method.upper()} {op.path} ({mode.value}): {exc}\n"
                            + "".join(traceback.format_exception(exc)[-6:]))
    assert not failures, "\n\n".join(failures)
    assert sum(n for k, n in CASES.items() if k.endswith(mode.value)) >= 2 * len(_operations(api_stack))


def test_every_api_route_is_described(api_stack):
    doc = api_stack.client.get("/api/v1/openapi.json").get_json()
    described = {(path, method.upper()) for path, ops in doc["paths"].items() for method in ops}
    routes = set()
    for rule in api_stack.app.url_map.iter_rules():
        if rule.rule.startswith("/api/v1/"):
            path = re.sub(r"<(?:[a-z]+:)?([a-z_]+)>", r"{\1}", rule.rule[len("/api/v1"):])
            routes |= {(path, m) for m in rule.methods - {"HEAD", "OPTIONS"}}
    assert routes - described == set(), f"routes missing from app/web/api/openapi.py: {sorted(routes - described)}"
    assert described - routes == set(), f"described but not routed: {sorted(described - routes)}"
    assert doc["paths"]["/health"]["get"]["security"] == []
