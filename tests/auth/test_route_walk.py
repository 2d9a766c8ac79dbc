"""Every route of the app, tried anonymously and as each role, against the one table in app/web/auth/policy.py.

A route without an entry fails here by name; a role let in where the table says no (or kept out
where it says yes) fails with the route, the method, the role and the status it got.
"""
from __future__ import annotations

from flask import url_for
from werkzeug.routing import IntegerConverter

from app.services.accounts import ROLES
from app.web.auth.policy import POLICY, PUBLIC

WHO = ("anonymous", *ROLES)
UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}


def _endpoints(app) -> set[str]:
    return {rule.endpoint for rule in app.url_map.iter_rules()}


def test_every_route_has_exactly_one_entry_in_the_access_table(db_stack):
    endpoints = _endpoints(db_stack.app)
    missing = sorted(endpoints - POLICY.keys())
    assert not missing, (
        f"endpoints without an entry in app/web/auth/policy.py POLICY: {missing}. Add one line per endpoint, "
        f"e.g. \"{missing[0]}\": VIEWER,  (PUBLIC, VIEWER, MEMBER or ADMIN: the least role that may call it)")
    stale = sorted(POLICY.keys() - endpoints)
    assert not stale, f"entries in app/web/auth/policy.py POLICY for endpoints that do not exist: {stale}"


def test_a_route_without_an_entry_is_refused(db_stack, monkeypatch):
    app = db_stack.app
    rule_count = len(list(app.url_map.iter_rules()))
    from app import create_app

    app = create_app(db_stack.settings)

    @app.get("/api/v1/undeclared")
    def undeclared():
        return {"secret": 42}

    assert len(list(app.url_map.iter_rules())) == rule_count + 1
    r = app.test_client().get("/api/v1/undeclared", headers=db_stack.auth("admin"))
    assert r.status_code == 403 and "no access rule" in r.get_json()["message"]
    app.extensions["trainyard"].engine.dispose()


def _url(app, rule) -> str:
    values = {}
    for arg in rule.arguments:
        converter = rule._converters[arg]
        values[arg] = 999999 if isinstance(converter, IntegerConverter) else "app.css" if arg == "filename" \
            and rule.endpoint == "static" else "x"
    with app.test_request_context():
        return url_for(rule.endpoint, **values)


def _expected(need: str, who: str) -> str:
    if need == PUBLIC:
        return "allowed"
    if who == "anonymous":
        return "unauthenticated"
    return "allowed" if ROLES.index(who) >= ROLES.index(need) else "forbidden"


def _outcome(need: str, response) -> str:
    status = response.status_code
    if need == PUBLIC:  # sign-in answers 401 to a wrong password and sign-out sends you to sign-in: both fine
        return "forbidden" if status == 403 else "allowed"
    if status == 401 or (status in (302, 303) and "/login" in response.headers.get("Location", "")):
        return "unauthenticated"
    if status == 403:
        return "forbidden"
    return "allowed"


def test_walk_every_route_as_every_role(db_stack):
    app = db_stack.app
    clients = {"anonymous": db_stack.anon_client}
    for role in ROLES:
        # /api with the role's Bearer token; pages with a signed-in session and its CSRF token
        clients[role] = (db_stack.client_as(role), db_stack.browser_client(role))
    # Sign-out last: it ends the walking clients' sessions.
    rules = sorted(app.url_map.iter_rules(), key=lambda r: (r.endpoint == "auth.logout", r.rule))
    tried, wrong = 0, []
    for rule in rules:
        path = _url(app, rule)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            for who in WHO:
                if who == "anonymous":
                    client, headers = clients[who], {}
                else:
                    bearer, browser = clients[who]
                    client = bearer if path.startswith("/api/") else browser
                    headers = {"X-CSRF-Token": browser.csrf} if client is browser and method in UNSAFE else {}
                r = client.open(path, method=method, headers=headers)
                tried += 1
                assert r.status_code < 500, f"{method} {path} as {who}: {r.status_code}"
                expected, got = _expected(POLICY[rule.endpoint], who), _outcome(POLICY[rule.endpoint], r)
                if expected != got:
                    wrong.append(f"{rule.endpoint} {method} {path} as {who}: expected {expected} "
                                 f"(table: {POLICY[rule.endpoint]}), got {got} ({r.status_code})")
    print(f"route walk: {tried} requests ({len(rules)} routes x methods x {len(WHO)} callers)")
    assert not wrong, "\n".join(wrong)
    assert tried >= 4 * len(POLICY)
