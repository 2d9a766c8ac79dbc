"""What the schemathesis tests share: the quick (CI) and long (nightly) modes, the seeded objects, the checks.

Quick, the default: derandomised, a few examples per operation, so CI's run is the same every time.
Long (``scripts/test.sh --long`` sets ``TRAINYARD_FUZZ=long`` and passes ``--hypothesis-seed``, which it
prints): many more examples and longer stateful scenarios, randomised by that seed.
"""
from __future__ import annotations

import io
import os
from collections import Counter
from typing import Any

from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from app.services import accounts, claims, registry, schedules, submission, sweeps, tokens
from tests.support import train_body, upload

LONG = os.environ.get("TRAINYARD_FUZZ") == "long"
# Generated requests per operation and generation mode, per role.
EXAMPLES = int(os.environ.get("TRAINYARD_FUZZ_EXAMPLES") or (300 if LONG else 8))
# Stateful scenarios per role, and the most calls one scenario chains.
SCENARIOS = int(os.environ.get("TRAINYARD_FUZZ_SCENARIOS") or (200 if LONG else 6))
STEPS = 20 if LONG else 6
ROLES = ("viewer", "member", "admin")  # admin last: its calls archive, delete and cancel seeded objects

OWNER = "fuzz-owner"  # a member who owns the seeded objects: the fuzzed member is someone else
OWNED = "fuzzed"  # the seeded dataset's and model's name

# Written from docs/security.md, not read from app/web/auth/policy.py.
READ_POSTS = {"POST /models/{name}/predict"}  # a POST that only reads: viewers may call it
ADMIN_ONLY = {
    "POST /models/{name}/versions/{version}/archive", "POST /models/{name}/aliases/{alias}",
    "POST /models/{name}/aliases/{alias}/rollback", "GET /webhooks", "POST /webhooks", "DELETE /webhooks/{hook_id}",
    "GET /webhooks/deliveries", "POST /schedules", "PATCH /schedules/{schedule_id}",
    "POST /schedules/{schedule_id}/pause", "POST /schedules/{schedule_id}/resume",
    "DELETE /schedules/{schedule_id}",
}
UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}
# "METHOD path role mode" -> generated requests sent (printed at the end of the run).
CASES: Counter[str] = Counter()


def hypothesis_settings(max_examples: int, **extra: Any) -> settings:
    return settings(max_examples=max_examples, deadline=None, derandomize=not LONG, database=None,
                    suppress_health_check=list(HealthCheck), **extra)


def _version(rt, job_id: str, attempt: int, accuracy: float) -> None:
    """Register a version of ``job_id`` whose artifact really is in the store (downloads verify it)."""
    metrics = f'{{"test_accuracy": {accuracy}}}'.encode()
    stored = rt.store.write_stream(io.BytesIO(metrics), f"artifacts/{job_id}/metrics.json")
    with rt.session() as s:
        assert registry.register_version(s, job_id, attempt, [stored], {"test_accuracy": accuracy}, {})


def seed(stack) -> dict[str, Any]:
    """A dataset, a queued job, two versions with aliases, a schedule, a webhook and a token, owned by a
    member who is none of the fuzzed accounts. Returns the values of the path parameters that name them."""
    rt = stack.runtime
    with rt.session() as s:
        accounts.create_user(s, OWNER, "owner-password-for-fuzzing", "member")
        token, secret = tokens.create_token(s, OWNER, "owned")
    owner = stack.app.test_client()
    owner.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {secret}"
    assert upload(owner, OWNED, "tabular", b"a,b,label\n1,2,x\n3,4,y\n5,6,x\n7,8,y\n").status_code == 201
    queued = owner.post("/api/v1/jobs", json=train_body(OWNED))  # no worker: it stays queued
    assert queued.status_code == 201, queued.get_data(as_text=True)
    with rt.session() as s:
        registry.ensure_model(s, OWNED)
    for accuracy in (0.5, 0.75):
        with rt.session() as s:
            trained, _ = submission.submit_train_job(s, train_body(OWNED), created_by=OWNER)
        with rt.session() as s:
            claimed = claims.claim_job(s, trained.id, "fuzz-worker")
        _version(rt, trained.id, claimed.attempt, accuracy)
    admin = stack.client
    for alias, version in (("production", 1), ("staging", 1), ("staging", 2)):
        moved = admin.post(f"/api/v1/models/{OWNED}/aliases/{alias}",
                           json={"version": version, "reason": "seeded for fuzzing"})
        assert moved.status_code == 200, moved.get_data(as_text=True)
    # Two schedules: fuzzed requests name the first (an admin's may delete it); listings still find the second.
    schedule_ids = []
    for name in (OWNED, f"{OWNED}-spare"):
        with rt.session() as s:
            schedule_ids.append(schedules.create(s, {"name": name, "model_name": OWNED, "kind": "mlp",
                                                     "dataset": "iris", "params": {"epochs": 1},
                                                     "cron": "*/5 * * * *"})["id"])
    with rt.session() as s:  # a sweep of the owner's: no beat here, so it never starts a trial
        sweep_id = sweeps.create(s, {"kind": "mlp", "dataset": "iris", "model_name": OWNED, "strategy": "grid",
                                     "space": {"hidden_units": [4, 8]}, "budget": {"trials": 2, "epochs": 1}},
                                 OWNER)["id"]
    hook = admin.post("/api/v1/webhooks", json={"url": "https://hooks.example.com/trainyard"})
    assert hook.status_code == 201, hook.get_data(as_text=True)
    return {"sweep_id": sweep_id,
            "job_id": queued.get_json()["id"], "name": OWNED, "version": 1, "filename": "metrics.json",
            "alias": "staging", "schedule_id": schedule_ids[0], "hook_id": hook.get_json()["id"],
            "token_id": token.id}


def aim_at_seeded(case, seeded: dict[str, Any]):
    """The case with its path parameters naming the seeded objects (the ones it has a seeded value for)."""
    for name in case.path_parameters or {}:
        if name in seeded:
            case.path_parameters[name] = seeded[name]
    return case


def role_check(role: str, seeded: dict[str, Any]):
    """A schemathesis check: a viewer never succeeds at a write, a member never at an admin's operation nor
    at cancelling the seeded owner's job."""
    def refused_to_role(ctx, response, case) -> None:
        label = f"{case.method.upper()} {case.operation.path}"
        if not 200 <= response.status_code < 300:
            return
        if role == "viewer" and case.method.upper() in UNSAFE and label not in READ_POSTS:
            raise AssertionError(f"a viewer got {response.status_code} on the write {label}")
        if role != "admin" and label in ADMIN_ONLY:
            raise AssertionError(f"a {role} got {response.status_code} on the admin-only {label}")
        if (role != "admin" and label == "POST /jobs/{job_id}/cancel"
                and (case.path_parameters or {}).get("job_id") == seeded["job_id"]):
            raise AssertionError(f"a {role} cancelled another member's job ({response.status_code})")
        if (role != "admin" and label.startswith("POST /sweeps/{sweep_id}/")
                and (case.path_parameters or {}).get("sweep_id") == seeded["sweep_id"]):
            raise AssertionError(f"a {role} got {response.status_code} on another member's sweep: {label}")

    return refused_to_role


def valid_body(case, turn: int) -> None:
    """Every other create gets a valid body (random ones are refused), so chains start from new objects too."""
    label = f"{case.method.upper()} {case.operation.path}"
    if turn % 2 or label not in ("POST /schedules", "POST /jobs", "POST /webhooks"):
        return
    case.body = {
        "POST /schedules": {"name": f"fuzz-{turn}", "model_name": OWNED, "kind": "mlp", "dataset": "iris",
                            "params": {"epochs": 1}, "cron": "*/5 * * * *"},
        "POST /jobs": train_body(OWNED),
        "POST /webhooks": {"url": "https://hooks.example.com/fuzz"},
    }[label]


def checks(role: str, seeded: dict[str, Any]) -> list:
    """No 5xx, a documented status and content type, a body that matches its schema, and the role's limits."""
    return [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance,
            role_check(role, seeded)]
