"""Sign in and out, your API tokens, users (admins) and the audit log (admins)."""
from __future__ import annotations

from urllib.parse import urlsplit

from flask import current_app, g, redirect, render_template, request, session, url_for

from app.domain.errors import Conflict, Invalid, NotFound, TooManyAttempts
from app.services import accounts, audit, tokens
from app.services.login_throttle import LoginLimits
from app.web.auth import bp
from app.web.auth.guard import SESSION_EPOCH, SESSION_USER, current_user
from app.web.http import runtime


def _safe_next(target: str | None) -> str:
    """Only a path on this site (never ``//host`` or a URL): no open redirect after sign-in.

    Browsers drop tabs and newlines from a URL and read a backslash as ``/``, so ``/<tab>/evil.example``
    becomes ``//evil.example``: any control character, space or backslash sends you home instead
    (a newline would also break the Location header).
    """
    if (not target or not target.startswith("/") or target.startswith("//")
            or any(c <= " " or c in "\\\x7f" for c in target)):
        return url_for("web.index")
    parts = urlsplit(target)
    return target if not (parts.scheme or parts.netloc) else url_for("web.index")


def _limits() -> LoginLimits:
    s = runtime().settings
    return LoginLimits(s.login_free_failures_per_account, s.login_free_failures_per_address,
                       s.login_max_delay_account_s, s.login_max_delay_address_s, s.login_window_s)


_warned_proxy: list[bool] = []


def _warn_if_behind_an_untrusted_proxy() -> None:
    """Said once: behind a proxy with TRUSTED_PROXIES=0, every client shares the proxy's address."""
    if (not _warned_proxy and "X-Forwarded-For" in request.headers
            and not runtime().settings.trusted_proxies):
        _warned_proxy.append(True)
        current_app.logger.warning(
            "sign-in requests carry X-Forwarded-For but TRUSTED_PROXIES=0: every client counts as the "
            "proxy's address %s for sign-in throttling; set TRUSTED_PROXIES to the number of proxies",
            request.remote_addr)


@bp.get("/login")
def login_form():
    return render_template("login.html", next=request.args.get("next", ""), error=None, username="")


@bp.post("/login")
def login():
    form = request.form
    username, password = form.get("username", "")[:64], form.get("password", "")
    _warn_if_behind_an_untrusted_proxy()
    try:
        user = accounts.authenticate(runtime().session, username, password, request.remote_addr, _limits())
    except TooManyAttempts as exc:
        return render_template("login.html", next=form.get("next", ""), error=exc.message, username=username), \
            429, {"Retry-After": str(exc.retry_after_s)}
    if user is None:
        return render_template("login.html", next=form.get("next", ""), error="wrong username or password",
                               username=username), 401
    session.clear()  # a fresh session (and CSRF token) for the signed-in user: no fixation
    session.permanent = True
    session[SESSION_USER] = user.id
    session[SESSION_EPOCH] = user.session_epoch
    return redirect(_safe_next(form.get("next")), code=303)


@bp.post("/logout")
def logout():
    """End this session and every other of the account: a copied cookie must not outlive sign-out."""
    user = current_user()
    if user is not None and g.get("auth_method") == "session":
        with runtime().session() as s:
            accounts.end_sessions(s, user.id)
    session.clear()
    return redirect(url_for("auth.login_form"), code=303)


def _account_page(new_token: str | None = None, error: dict | None = None, status: int = 200):
    user = current_user()
    with runtime().session() as s:
        mine = tokens.list_tokens(s, user.username)
    return render_template("account.html", user=user, tokens=mine, new_token=new_token,
                           errors=error or {}), status


@bp.get("/account")
def account():
    return _account_page()


@bp.post("/account/tokens")
def create_token():
    """A new token for the signed-in user, shown once on the page that answers."""
    user = current_user()
    try:
        with runtime().session() as s:
            view, token = tokens.create_token(s, user.username, request.form.get("name", ""))
            audit.record(s, user.username, "token.create", f"token {view.id} ({view.name})",
                         address=request.remote_addr, detail={"token_id": view.id, "name": view.name})
    except Invalid as exc:
        return _account_page(error=exc.fields, status=422)
    return _account_page(new_token=token, status=201)


@bp.post("/account/tokens/<int:token_id>/revoke")
def revoke_token(token_id: int):
    with runtime().session() as s:
        tokens.revoke_token(s, token_id, current_user())
    back = request.form.get("back")
    return redirect(url_for("auth.users") if back == "users" else url_for("auth.account"), code=303)


def _users_page(errors: dict | None = None, status: int = 200, message: str | None = None):
    with runtime().session() as s:
        users = accounts.list_users(s)
        all_tokens = tokens.list_tokens(s)
    return render_template("users.html", users=users, tokens=all_tokens, roles=accounts.ROLES,
                           errors=errors or {}, message=message), status


@bp.get("/admin/users")
def users():
    return _users_page()


@bp.post("/admin/users")
def create_user():
    form = request.form
    try:
        with runtime().session() as s:
            accounts.create_user(s, form.get("username", ""), form.get("password", ""),
                                 form.get("role", "viewer"))
    except Invalid as exc:
        return _users_page(exc.fields, 422)
    except Conflict as exc:
        return _users_page({"username": exc.message}, 409)
    return redirect(url_for("auth.users"), code=303)


@bp.post("/admin/users/<username>")
def update_user(username: str):
    """Change a user's role, or disable / enable the account (a disabled one can neither sign in nor use tokens)."""
    form = request.form
    me = current_user()
    if username == me.username and (form.get("disabled") == "1" or form.get("role") not in (None, "", "admin")):
        return _users_page({"username": "you cannot disable or demote your own account (ask another admin)"}, 409)
    try:
        with runtime().session() as s:
            if form.get("role"):
                accounts.set_role(s, username, form["role"])
            if form.get("disabled") in ("0", "1"):
                accounts.set_disabled(s, username, form["disabled"] == "1")
    except Invalid as exc:
        return _users_page(exc.fields, 422)
    except NotFound as exc:
        return _users_page({"username": exc.message}, 404)
    return redirect(url_for("auth.users"), code=303)


@bp.get("/audit")
def audit_page():
    action = request.args.get("action") or None
    actor = request.args.get("actor") or None
    with runtime().session() as s:
        rows = audit.entries(s, action=action, actor=actor, limit=500)
    return render_template("audit.html", entries=rows, action=action or "", actor=actor or "")

