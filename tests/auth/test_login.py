"""Sign-in through the form: cookie flags, CSRF, sign-out, disabled accounts, no open redirect (throttling:
test_throttle.py)."""
from __future__ import annotations

import html
import re

import pytest

from app.services import accounts
from tests.conftest import csrf_from


def _login(client, username, password, **extra):
    token = csrf_from(client.get("/login").get_data(as_text=True))
    return client.post("/login", data={"username": username, "password": password, "csrf_token": token, **extra})


def test_pages_send_an_anonymous_person_to_sign_in_and_back(db_stack, person):
    c = db_stack.anon_client
    r = c.get("/models?x=1")
    assert r.status_code == 302 and r.headers["Location"].startswith("/login?next=/models")
    r = _login(c, *person, next="/models")
    assert r.status_code == 303 and r.headers["Location"] == "/models"
    cookie = r.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" not in cookie
    page = c.get("/models")
    assert page.status_code == 200 and person[0] in page.get_data(as_text=True)


def test_the_session_cookie_is_secure_over_https(db_stack, person):
    c = db_stack.app.test_client()
    token = csrf_from(c.get("/login", base_url="https://localhost").get_data(as_text=True))
    r = c.post("/login", base_url="https://localhost",
               data={"username": person[0], "password": person[1], "csrf_token": token})
    assert r.status_code == 303 and "Secure" in r.headers["Set-Cookie"]


@pytest.mark.parametrize("target", [
    "https://evil.example/", "//evil.example/x", "/\\evil.example", "/\t/evil.example/phish",
    "/\n/evil.example", "/\r\nSet-Cookie: x=1", " //evil.example", "/ /evil.example",
    "/\x7f/evil.example", "javascript:alert(1)", "/models\nLocation: //evil.example"])
def test_after_sign_in_only_local_paths_are_followed(db_stack, person, target):
    r = _login(db_stack.anon_client, *person, next=target)
    assert r.status_code == 303 and r.headers["Location"] == "/", target


def test_the_next_from_the_query_string_cannot_leave_the_site(db_stack, person):
    """The issue's case: ``?next=/%09/evil.example/phish`` once redirected to ``//evil.example/phish``."""
    c = db_stack.anon_client
    form = c.get("/login?next=/%09/evil.example/phish").get_data(as_text=True)
    token = csrf_from(form)
    carried = re.search(r'name="next" value="([^"]*)"', form).group(1)
    r = c.post("/login", data={"username": person[0], "password": person[1], "csrf_token": token,
                               "next": html.unescape(carried)})
    assert r.status_code == 303 and r.headers["Location"] == "/"
    r = _login(db_stack.anon_client, *person, next="/models?sort=name&x=%2F%2Fa")  # local paths still work
    assert r.headers["Location"] == "/models?sort=name&x=%2F%2Fa"


def test_a_wrong_password_is_refused_and_audited(db_stack, person):
    c = db_stack.anon_client
    r = _login(c, person[0], "not-the-password")
    assert r.status_code == 401 and "wrong username or password" in r.get_data(as_text=True)
    assert c.get("/").status_code == 302
    admin = db_stack.client
    page = admin.get("/audit?action=login_failed").get_data(as_text=True)
    assert person[0] in page and "login_failed" in page


def test_sign_in_without_the_csrf_token_is_refused(db_stack, person):
    c = db_stack.anon_client
    c.get("/login")
    r = c.post("/login", data={"username": person[0], "password": person[1]})
    assert r.status_code == 400 and "CSRF" in r.get_data(as_text=True)


def test_forms_of_a_signed_in_person_need_the_csrf_token(db_stack):
    c = db_stack.browser_client("member")
    body = {"kind": "mlp", "dataset": "iris", "model_name": "csrf-test", "params.epochs": "1"}
    assert c.post("/jobs/new", data=body).status_code == 400
    assert c.post("/jobs/new", data={**body, "csrf_token": "forged"}).status_code == 400
    assert c.post("/jobs/new", data={**body, "csrf_token": c.csrf}).status_code == 303
    # cookie-authenticated API calls that change state need it too (as a header); reads do not
    assert c.get("/api/v1/jobs").status_code == 200
    assert c.post("/api/v1/jobs", json={"kind": "mlp", "dataset": "iris", "model_name": "csrf-api"}).status_code == 400
    r = c.post("/api/v1/jobs", json={"kind": "mlp", "dataset": "iris", "model_name": "csrf-api"},
               headers={"X-CSRF-Token": c.csrf})
    assert r.status_code == 201 and r.get_json()["created_by"] == "test-member"


def test_sign_out_ends_the_session(db_stack):
    c = db_stack.browser_client("viewer")
    assert c.get("/").status_code == 200
    assert c.post("/logout", data={"csrf_token": c.csrf}).status_code == 303
    assert c.get("/").status_code == 302


def test_a_disabled_account_is_signed_out_and_its_tokens_stop(db_stack, person):
    c = db_stack.anon_client
    assert _login(c, *person).status_code == 303
    with db_stack.runtime.session() as s:
        accounts.set_disabled(s, person[0], True)
    assert c.get("/").status_code == 302
    assert _login(db_stack.anon_client, *person).status_code == 401


def test_passwords_are_stored_as_argon2id_hashes(db_stack, person):
    from sqlalchemy import select

    from app.models import User

    with db_stack.runtime.session() as s:
        stored = s.scalar(select(User.password_hash).where(User.username == person[0]))
    assert stored.startswith("$argon2id$") and person[1] not in stored


def test_a_role_too_low_gets_the_403_page(db_stack):
    page = db_stack.browser_client("viewer").get("/jobs/new")
    text = page.get_data(as_text=True)
    assert page.status_code == 403 and "member role" in text and "Back to jobs" in text
    api = db_stack.client_as("viewer").post("/api/v1/jobs", json={})
    assert api.status_code == 403 and api.get_json()["error"] == "forbidden"


def test_pages_offer_only_what_the_role_may_do(db_stack, model_name):
    job = db_stack.client.post("/api/v1/jobs", json={"kind": "mlp", "dataset": "iris", "model_name": model_name,
                                                     "params": {"epochs": 1}}).get_json()
    viewer = db_stack.browser_client("viewer").get(f"/jobs/{job['id']}").get_data(as_text=True)
    member = db_stack.browser_client("member").get(f"/jobs/{job['id']}").get_data(as_text=True)
    admin = db_stack.browser_client("admin").get(f"/jobs/{job['id']}").get_data(as_text=True)
    assert "cancel-form" not in viewer and "cancel-form" not in member and "cancel-form" in admin
    assert "New training job" not in viewer and "New training job" in member
    assert "Audit" not in member and "Audit" in admin


def _cookie(client) -> str:
    return client.get_cookie("session").value


def test_a_session_cookie_copied_before_sign_out_is_refused_after_it(db_stack, person):
    c = db_stack.anon_client
    assert _login(c, *person).status_code == 303
    stolen = _cookie(c)
    token = csrf_from(c.get("/account").get_data(as_text=True))
    assert c.post("/logout", data={"csrf_token": token}).status_code == 303
    thief = db_stack.anon_client
    thief.set_cookie("session", stolen)
    r = thief.get("/account")
    assert r.status_code == 302 and "/login" in r.headers["Location"]
    assert thief.get("/api/v1/me").status_code == 401
    again = db_stack.anon_client  # signing in again works, with a fresh cookie
    assert _login(again, *person).status_code == 303 and again.get("/account").status_code == 200


def test_changing_the_password_ends_every_session(db_stack, person):
    c = db_stack.anon_client
    assert _login(c, *person).status_code == 303 and c.get("/account").status_code == 200
    with db_stack.runtime.session() as s:
        accounts.set_password(s, person[0], "a-brand-new-password")
    assert c.get("/account").status_code == 302
    assert _login(db_stack.anon_client, person[0], "a-brand-new-password").status_code == 303
