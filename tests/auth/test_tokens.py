"""API tokens: made on the account page or by the CLI, shown once, kept as sha256, named, revocable."""
from __future__ import annotations

import hashlib
import re

from sqlalchemy import select

from app.models import ApiToken


def _new_token(client, name: str) -> str:
    r = client.post("/account/tokens", data={"name": name, "csrf_token": client.csrf})
    assert r.status_code == 201
    found = re.search(r"<pre><code>(ty_[^<]+)</code></pre>", r.get_data(as_text=True))
    assert found, "the new token is shown on the page"
    return found.group(1)


def test_a_token_is_shown_once_stored_as_sha256_and_works_as_bearer(db_stack):
    c = db_stack.browser_client("viewer")
    token = _new_token(c, "laptop")
    page = c.get("/account").get_data(as_text=True)
    assert "laptop" in page and token not in page  # never shown again
    with db_stack.runtime.session() as s:
        row = s.scalar(select(ApiToken).where(ApiToken.name == "laptop"))
    assert row.token_sha256 == hashlib.sha256(token.encode()).hexdigest() and row.last_used_at is None
    api = db_stack.app.test_client()
    r = api.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 200 and r.get_json() == {"username": "test-viewer", "role": "viewer"}
    with db_stack.runtime.session() as s:
        assert s.scalar(select(ApiToken.last_used_at).where(ApiToken.id == row.id)) is not None
    assert "never" not in c.get("/account").get_data(as_text=True).split("laptop")[1].split("</tr>")[0]


def test_a_revoked_token_stops_working(db_stack):
    c = db_stack.browser_client("member")
    token = _new_token(c, "ci")
    with db_stack.runtime.session() as s:
        token_id = s.scalar(select(ApiToken.id).where(ApiToken.name == "ci"))
    auth = {"Authorization": f"Bearer {token}"}
    assert db_stack.anon_client.get("/api/v1/jobs", headers=auth).status_code == 200
    assert c.post(f"/account/tokens/{token_id}/revoke", data={"csrf_token": c.csrf}).status_code == 303
    r = db_stack.anon_client.get("/api/v1/jobs", headers=auth)
    assert r.status_code == 401 and "revoked" in r.get_json()["message"]
    assert "revoked" in c.get("/account").get_data(as_text=True)


def test_someone_elses_token_can_be_revoked_only_by_an_admin(db_stack):
    owner = db_stack.browser_client("member")
    _new_token(owner, "mine")
    with db_stack.runtime.session() as s:
        token_id = s.scalar(select(ApiToken.id).where(ApiToken.name == "mine"))
    viewer = db_stack.browser_client("viewer")
    assert viewer.post(f"/account/tokens/{token_id}/revoke", data={"csrf_token": viewer.csrf}).status_code == 403
    admin = db_stack.browser_client("admin")
    assert "mine" in admin.get("/admin/users").get_data(as_text=True)
    r = admin.post(f"/account/tokens/{token_id}/revoke", data={"csrf_token": admin.csrf, "back": "users"})
    assert r.status_code == 303 and r.headers["Location"] == "/admin/users"


def test_every_api_route_but_health_needs_a_token(db_stack):
    anon = db_stack.anon_client
    assert anon.get("/api/v1/health").status_code == 200
    for path in ("/api/v1/jobs", "/api/v1/models", "/api/v1/kinds", "/api/v1/openapi.json", "/api/v1/datasets"):
        r = anon.get(path)
        assert r.status_code == 401 and r.headers["WWW-Authenticate"].startswith("Bearer"), path
    for bad in ("Bearer nope", "Bearer ty_" + "a" * 43, "Basic dXNlcjpwYXNz", "Bearer "):
        assert anon.get("/api/v1/jobs", headers={"Authorization": bad}).status_code == 401, bad


def test_a_token_acts_with_its_accounts_role(db_stack, model_name):
    body = {"kind": "mlp", "dataset": "iris", "model_name": model_name, "params": {"epochs": 1}}
    assert db_stack.client_as("viewer").post("/api/v1/jobs", json=body).status_code == 403
    job = db_stack.client_as("member").post("/api/v1/jobs", json=body)
    assert job.status_code == 201 and job.get_json()["created_by"] == "test-member"
    assert db_stack.client_as("viewer").get(job.get_json()["url"]).status_code == 200
    promote = db_stack.client_as("member").post(f"/api/v1/models/{model_name}/aliases/production", json={"version": 1})
    assert promote.status_code == 403


def test_members_cancel_their_own_jobs_admins_anyones(db_stack, model_name):
    body = {"kind": "mlp", "dataset": "iris", "model_name": model_name, "params": {"epochs": 1}}
    admins = db_stack.client.post("/api/v1/jobs", json=body).get_json()
    member = db_stack.client_as("member")
    members = member.post("/api/v1/jobs", json={**body, "model_name": model_name + "b"}).get_json()
    r = member.post(f"/api/v1/jobs/{admins['id']}/cancel")
    assert r.status_code == 403 and "creator or an admin" in r.get_json()["message"]
    assert member.post(f"/api/v1/jobs/{members['id']}/cancel").status_code == 200
    assert db_stack.client.post(f"/api/v1/jobs/{admins['id']}/cancel").status_code == 200
    browser = db_stack.browser_client("member")
    assert browser.post(f"/jobs/{admins['id']}/cancel", data={"csrf_token": browser.csrf}).status_code == 403


def test_admins_manage_users_on_the_users_page(db_stack):
    admin = db_stack.browser_client("admin")
    r = admin.post("/admin/users", data={"username": "newbie", "password": "newbie-password", "role": "viewer",
                                         "csrf_token": admin.csrf})
    assert r.status_code == 303
    assert admin.post("/admin/users", data={"username": "newbie", "password": "newbie-password",
                                            "csrf_token": admin.csrf}).status_code == 409
    assert admin.post("/admin/users/newbie", data={"role": "member", "csrf_token": admin.csrf}).status_code == 303
    assert admin.post("/admin/users/newbie", data={"disabled": "1", "csrf_token": admin.csrf}).status_code == 303
    page = admin.get("/admin/users").get_data(as_text=True)
    assert "newbie" in page and "disabled" in page
    me = admin.post("/admin/users/test-admin", data={"disabled": "1", "csrf_token": admin.csrf})
    assert me.status_code == 409 and "your own account" in me.get_data(as_text=True)
    assert admin.post("/admin/users/test-admin", data={"role": "viewer", "csrf_token": admin.csrf}).status_code == 409
