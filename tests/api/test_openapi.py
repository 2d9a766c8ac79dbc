"""The OpenAPI description is served, covers every /api/v1 route, and holds: schemathesis calls every
operation with generated (valid and invalid) requests as each role (viewer, member, admin), on a database
seeded with objects another member owns, and fails on any 5xx, on a response that does not match the
description, and on a viewer's write or a member's admin-only call that succeeded. Half the generated
requests name the seeded objects, so they reach past the 404s. The stateful tests (create, then read,
change, delete) are in test_openapi_stateful.py; quick and long modes in tests/api/fuzz.py.
"""
from __future__ import annotations

import re
import traceback

import pytest
import schemathesis
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode

from tests.api import fuzz


def _operations(stack):
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", stack.app, headers=stack.auth("admin"))
    return [result.ok() for result in schema.get_all_operations()]


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
@pytest.mark.parametrize("role", fuzz.ROLES)
def test_the_api_keeps_its_description(api_stack, role, mode):
    """Every operation, fuzz.EXAMPLES generated requests each (schemathesis' pytest plugin is not used:
    it does not run under pytest 9 yet, so the cases are drawn with Hypothesis directly)."""
    auth, seeded = api_stack.auth(role), api_stack.seeded
    checks = fuzz.checks(role, seeded)
    failures = []
    for op in _operations(api_stack):
        strategy = st.tuples(op.as_strategy(generation_mode=mode), st.booleans()).map(
            lambda pair: fuzz.aim_at_seeded(pair[0], seeded) if pair[1] else pair[0])

        @given(case=strategy)
        @fuzz.hypothesis_settings(fuzz.EXAMPLES)
        def check(case):
            fuzz.CASES[f"{case.method} {case.path} {role} {mode.value}"] += 1
            case.call_and_validate(headers=auth, checks=checks)

        try:
            check()
        except Unsatisfiable:  # no parameters or body to make invalid (e.g. GET /health): nothing to try
            continue
        except Exception as exc:  # collect all operations' failures, then report them together
            failures.append(f"{op.method.upper()} {op.path} ({role}, {mode.value}): {exc}\n"
                            + "".join(traceback.format_exception(exc)[-6:]))
    assert not failures, "\n\n".join(failures)
    ran = sum(n for k, n in fuzz.CASES.items() if k.endswith(f"{role} {mode.value}"))
    assert ran >= 2 * len(_operations(api_stack))


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


def test_every_link_names_an_operation_and_its_parameters(api_stack):
    """Each link of app/web/api/openapi_links.py points at a described operation, with parameters it has."""
    doc = api_stack.client.get("/api/v1/openapi.json").get_json()
    links = [(path, method, status, name, link) for path, ops in doc["paths"].items() for method, op in ops.items()
             for status, response in op["responses"].items() for name, link in response.get("links", {}).items()]
    assert len(links) >= 30
    for path, method, status, name, link in links:
        target_path, target_method = link["operationRef"].removeprefix("#/paths/").rsplit("/", 1)
        target = doc["paths"][target_path.replace("~1", "/").replace("~0", "~")][target_method]
        declared = {p["name"] for p in target.get("parameters", [])}
        assert set(link["parameters"]) <= declared, f"{method} {path} {status} {name}: {link['parameters']}"
        assert ("requestBody" in link) <= ("requestBody" in target), f"{method} {path} {status} {name}"
