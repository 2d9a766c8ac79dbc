"""Who may do what, checked against a table written here, not read from app/web/auth/policy.py.

The route walk in test_route_walk.py derives its expectations from POLICY itself, so a wrong entry there
(a route opened to viewers) passes. Here the expected least role per endpoint is written out from
docs/security.md, every route is walked as each caller against REAL objects (a job, dataset, model
version, schedule, webhook and token) owned by another member, and the ownership rules (a member cancels
only their own jobs, revokes only their own tokens) are expected as refusals.
"""
from __future__ import annotations

from flask import url_for

from app.services import accounts, claims, registry, schedules, submission, sweeps, tokens
from app.storage import StoredFile
from tests.support import train_body, upload

PUBLIC, VIEWER, MEMBER, ADMIN = "public", "viewer", "member", "admin"
CALLERS = ("anonymous", "viewer", "member", "admin")  # "member" is a member who owns none of the objects
OWNED = "owned"  # the other member's dataset and model share this name, so one `name` fills every route

# docs/security.md: viewers read everything (and call predict, manage their own tokens); members also
# submit, upload, cancel THEIR OWN jobs; admins also promote, roll back, archive, cancel anyone's job,
# manage users, tokens, webhooks and schedules, and read the audit log.
READS = """api.openapi api.queues api.list_kinds api.list_datasets api.dataset_versions api.get_dataset
    api.preview_dataset api.get_job api.list_jobs api.job_events api.list_models api.list_versions api.get_version
    api.download_artifact api.get_aliases api.get_alias api.predict_endpoint api.whoami api.download_output
    api.list_workers
    api.list_schedules api.get_schedule api.preview_schedule api.list_sweeps api.get_sweep web.sweep_list
    web.sweep_detail metrics.metrics web.index web.job_detail
    web.workers_page web.models web.model_detail web.compare web.version_detail web.download_artifact
    web.dataset_list web.dataset_detail web.schedule_list web.schedule_detail auth.account auth.create_token"""
MEMBER_WRITES = """api.upload_dataset api.submit_job web.new_job web.submit_job web.upload_dataset
    web.new_batch_job web.submit_batch_job api.create_sweep web.new_sweep web.create_sweep"""
# Refused to everyone but an admin when the object belongs to someone else (owner or admin).
NOT_YOURS = """api.cancel_job web.cancel_job auth.revoke_token api.pause_sweep api.resume_sweep api.cancel_sweep
    api.register_sweep_best web.sweep_action web.register_sweep_best"""
ADMIN_ONLY = """api.archive_version api.promote api.rollback web.promote web.rollback api.create_webhook
    api.list_webhooks api.delete_webhook api.webhook_deliveries web.webhooks_page api.create_schedule
    api.update_schedule api.pause_schedule api.resume_schedule api.delete_schedule web.create_schedule
    web.edit_schedule web.pause_schedule web.resume_schedule web.delete_schedule auth.users auth.create_user
    auth.update_user auth.audit_page"""
EXPECTED: dict[str, str] = {
    **dict.fromkeys("static auth.login_form auth.login auth.logout api.health".split(), PUBLIC),
    **dict.fromkeys(READS.split(), VIEWER),
    **dict.fromkeys(MEMBER_WRITES.split(), MEMBER),
    **dict.fromkeys(NOT_YOURS.split(), ADMIN),
    **dict.fromkeys(ADMIN_ONLY.split(), ADMIN),
}
UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}


def _objects(stack) -> dict[str, object]:
    """A job, dataset, model version, schedule, webhook and token that belong to a member "owner"."""
    rt = stack.runtime
    with rt.session() as s:
        accounts.create_user(s, "owner", "owner-password-for-tests", MEMBER)
        view, secret = tokens.create_token(s, "owner", "owned")
    owner = stack.app.test_client()
    owner.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {secret}"
    r = owner.post("/api/v1/jobs", json=train_body(OWNED))  # no worker here: it stays queued, cancellable
    assert r.status_code == 201, r.get_data(as_text=True)
    job_id = r.get_json()["id"]
    assert upload(owner, OWNED, "corpus", b"one two three\nfour five six\n").status_code == 201
    with rt.session() as s:
        trained, _ = submission.submit_train_job(s, train_body(OWNED))
    with rt.session() as s:
        claimed = claims.claim_job(s, trained.id, "w")
    with rt.session() as s:
        registry.ensure_model(s, OWNED)
    with rt.session() as s:
        registry.register_version(s, trained.id, claimed.attempt,
                                  [StoredFile("metrics.json", f"artifacts/{trained.id}/metrics.json", 2, "0" * 64)],
                                  {"test_accuracy": 0.5}, {})
    with rt.session() as s:
        schedule = schedules.create(s, {"name": "owned", "model_name": OWNED, "kind": "mlp", "dataset": "iris",
                                        "params": {"epochs": 1}, "cron": "*/5 * * * *"})
    with rt.session() as s:
        sweep = sweeps.create(s, {"kind": "mlp", "dataset": "iris", "model_name": OWNED, "strategy": "grid",
                                  "space": {"hidden_units": [4, 8]}, "budget": {"trials": 2, "epochs": 1}}, "owner")
    hook = stack.client.post("/api/v1/webhooks", json={"url": "https://hooks.example.com/trainyard"})
    assert hook.status_code == 201, hook.get_data(as_text=True)
    return {"sweep_id": sweep["id"], "action": "pause",
            "job_id": job_id, "name": OWNED, "version": 1, "filename": "metrics.json", "alias": "production",
            "schedule_id": schedule["id"], "hook_id": hook.get_json()["id"], "token_id": view.id,
            "username": "owner"}


def _outcome(need: str, response) -> str:
    status = response.status_code
    if need == PUBLIC:  # sign-in answers 401 to a wrong password and sign-out sends you to sign-in: both fine
        return "forbidden" if status == 403 else "allowed"
    if status == 401 or (status in (302, 303) and "/login" in response.headers.get("Location", "")):
        return "unauthenticated"
    return "forbidden" if status == 403 else "allowed"


def _expected(need: str, who: str) -> str:
    if need == PUBLIC:
        return "allowed"
    if who == "anonymous":
        return "unauthenticated"
    return "allowed" if CALLERS.index(who) >= CALLERS.index(need) else "forbidden"


def test_the_written_table_covers_every_route_and_agrees_with_the_guard_table(db_stack):
    from app.web.auth.policy import POLICY

    endpoints = {rule.endpoint for rule in db_stack.app.url_map.iter_rules()}
    assert sorted(endpoints - EXPECTED.keys()) == [], "a new route: write its expected role in EXPECTED"
    owned_elsewhere = {e: ADMIN for e in NOT_YOURS.split()}  # POLICY lets members in; the handler checks
    differ = {e: (POLICY.get(e), EXPECTED[e]) for e in endpoints
              if POLICY.get(e) != EXPECTED[e] and not (e in owned_elsewhere and POLICY.get(e) in (VIEWER, MEMBER))}
    assert differ == {}, f"policy.py POLICY (got, expected): {differ}"


def test_walk_every_route_on_another_members_objects(db_stack):
    app = db_stack.app
    values = _objects(db_stack)
    clients = {"anonymous": (db_stack.anon_client, None)}
    for role in CALLERS[1:]:
        clients[role] = (db_stack.client_as(role), db_stack.browser_client(role))
    # Sign-out last (it ends the sessions); within a route the admin comes last (it may delete the object).
    rules = sorted(app.url_map.iter_rules(), key=lambda r: (r.endpoint == "auth.logout", r.rule))
    tried, wrong = 0, []
    for rule in rules:
        with app.test_request_context():
            path = url_for(rule.endpoint, **{a: "app.css" if rule.endpoint == "static" else values[a]
                                              for a in rule.arguments})
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            for who in CALLERS:
                bearer, browser = clients[who]
                client = bearer if browser is None or path.startswith("/api/") else browser
                headers = {"X-CSRF-Token": browser.csrf} if client is browser and method in UNSAFE else {}
                r = client.open(path, method=method, headers=headers)
                tried += 1
                assert r.status_code < 500, f"{method} {path} as {who}: {r.status_code}"
                expected, got = _expected(EXPECTED[rule.endpoint], who), _outcome(EXPECTED[rule.endpoint], r)
                if expected != got:
                    wrong.append(f"{rule.endpoint} {method} {path} as {who}: expected {expected}, got {got} "
                                 f"({r.status_code})")
    assert not wrong, "\n".join(wrong)
    assert tried >= 4 * len(EXPECTED)
    # The owner's job was cancelled by the admin alone, and the owner's token revoked by the admin alone.
    job = db_stack.client.get(f"/api/v1/jobs/{values['job_id']}").get_json()
    assert job["status"] == "cancelled", job
