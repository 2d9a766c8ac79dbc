"""Every request passes here: who is calling (Bearer token or session), may they, and CSRF.

Order: find the endpoint's rule (none: refused), identify, check the role, then CSRF for
cookie-authenticated state-changing requests. Successful audited calls are logged afterwards.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Flask, Response, abort, current_app, g, jsonify, redirect, request, session, url_for

from app.domain.errors import Forbidden
from app.services import accounts, audit, tokens
from app.services.accounts import UserView
from app.web.auth.csrf import csrf_ok, csrf_token
from app.web.auth.policy import AUDITED, PUBLIC, required_role
from app.web.http import end_request_session, request_connection, request_session

SESSION_USER = "user_id"
SESSION_EPOCH = "epoch"  # the account's session_epoch when this cookie was issued
AUDIT_FIELDS = ("model_name", "kind", "dataset", "name", "version", "alias", "reason", "role", "disabled",
                "username")


def current_user() -> UserView | None:
    return g.get("user")


def actor() -> str | None:
    """The signed-in username, recorded as who submitted, cancelled or promoted."""
    user = current_user()
    return user.username if user else None


def _rt():
    return current_app.extensions["trainyard"]


def _identify() -> tuple[UserView | None, str | None, bool]:
    """(user, how: "token" | "session" | None, a bad token was sent)."""
    header = request.headers.get("Authorization", "")
    if header:
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return None, None, True
        found = tokens.user_for_token(request_connection(), token.strip())
        if found is None:
            return None, "token", True
        user, touch = found
        if touch is not None:  # once a minute a token: its own short unit of work, not the read's
            with _rt().session() as s:
                tokens.touch_token(s, touch)
        return user, "token", False
    user_id = session.get(SESSION_USER)
    if isinstance(user_id, int):
        user = accounts.get_user(request_session(), user_id)
        if user is not None and session.get(SESSION_EPOCH) != user.session_epoch:
            user = None  # signed out (or the password changed) since this cookie was issued
        if user is None:
            session.pop(SESSION_USER, None)
            session.pop(SESSION_EPOCH, None)
        return user, "session" if user else None, False
    return None, None, False


MACHINE_PATHS = ("/api/", "/metrics")  # read by programs (clients, Prometheus): a 401, never a login page


def _is_api() -> bool:
    return request.path.startswith(MACHINE_PATHS)


def _unauthenticated(bad_token: bool) -> Response:
    if _is_api() or bad_token:
        message = ("the API token is invalid, revoked, or its account is disabled" if bad_token
                   else "sign in: send 'Authorization: Bearer <token>' (create one on your account page)")
        resp = jsonify({"error": "unauthorized", "message": message})
        resp.status_code = 401
        resp.headers["WWW-Authenticate"] = 'Bearer realm="trainyard"'
        return resp
    return redirect(url_for("auth.login_form", next=request.full_path if request.query_string else request.path))


def check_request() -> Response | None:
    endpoint = request.endpoint
    if endpoint is None:  # no route: let the 404/405 through
        return None
    need = required_role(endpoint)
    if need is None:
        current_app.logger.error("endpoint %s has no entry in app/web/auth/policy.py POLICY: refused", endpoint)
        abort(403, description=f"no access rule is declared for {endpoint}")
    user, how, bad_token = _identify()
    g.user, g.auth_method = user, how
    if bad_token:
        return _unauthenticated(True)
    if need != PUBLIC:
        if user is None:
            return _unauthenticated(False)
        if not user.at_least(need):
            raise Forbidden(f"this needs the {need} role; your account {user.username!r} is a {user.role}")
    if how != "token" and not csrf_ok():
        abort(400, description="missing or wrong CSRF token: reload the page and try again")
    return None


def require_owner_or_admin(created_by: str | None, what: str) -> None:
    """Members act on their own things only; admins on anyone's."""
    user = current_user()
    if user is None or (not user.at_least("admin") and created_by != user.username):
        raise Forbidden(f"only its creator or an admin may {what}")


def _audit_detail() -> dict[str, Any]:
    detail: dict[str, Any] = dict(request.view_args or {})
    body = request.get_json(silent=True) if request.is_json else None
    source = body if isinstance(body, dict) else (
        request.form if request.mimetype in ("application/x-www-form-urlencoded", "multipart/form-data")
        else request.args)
    for key in AUDIT_FIELDS:
        value = source.get(key)
        if isinstance(value, str | int | bool) and value != "":
            detail[key] = value[:200] if isinstance(value, str) else value
    return detail


def audit_in_unit(target_of: Callable[[Any], str]) -> Callable[[Any, Any], None]:
    """This request's audit row, for a use-case that takes ``audit``: written in the use-case's own unit of
    work, named ``target_of(what it made)``, so the write and its audit row commit together (a failed
    audit write after a committed job was a 500 that invited a resubmission). The after-response hook
    then skips the request."""
    user, action = current_user(), AUDITED.get(request.endpoint or "")
    address, detail = request.remote_addr, _audit_detail()

    def write(session, made) -> None:
        if action is None:  # an endpoint the access table does not audit
            return
        audit.record(session, user.username if user else None, action, target_of(made), address=address,
                     detail=detail)
        g.audited_in_unit = True

    return write


def audit_response(response: Response) -> Response:
    """Successful audited calls, after the response, in a unit of their own (unless written in the call's)."""
    action = AUDITED.get(request.endpoint or "")
    if action and response.status_code < 400 and not g.get("audited_in_unit"):
        user = current_user()
        target = response.headers.get("Location") or request.path
        with _rt().session() as s:
            audit.record(s, user.username if user else None, action, target, address=request.remote_addr,
                         detail=_audit_detail())
    return response


def install(app: Flask) -> None:
    """Hook the checks into every request and give templates the signed-in user and the CSRF token."""
    app.before_request(check_request)
    app.after_request(audit_response)
    app.teardown_request(end_request_session)
    app.jinja_env.globals["csrf_token"] = csrf_token
    app.jinja_env.globals["current_user"] = current_user
