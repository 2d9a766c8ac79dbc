"""CSRF: a random token per session, sent back by every form (hidden field) and script (header).

Our own few lines rather than Flask-WTF: the app has no WTForms forms, and the rule is small — a
cookie-authenticated state-changing request must carry the session's token. Bearer-token requests
are exempt (a browser never adds that header by itself). SameSite=Lax cookies are a second wall.
"""
from __future__ import annotations

import hmac
import secrets

from flask import request, session

FIELD = "csrf_token"
HEADER = "X-CSRF-Token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def csrf_token() -> str:
    """The session's token (made on first use); templates put it in every form."""
    if FIELD not in session:
        session[FIELD] = secrets.token_urlsafe(32)
    return session[FIELD]


def csrf_ok() -> bool:
    """True for safe methods and for unsafe ones carrying the session's token."""
    if request.method in SAFE_METHODS:
        return True
    expected = session.get(FIELD)
    sent = request.headers.get(HEADER)
    if sent is None and request.mimetype in ("application/x-www-form-urlencoded", "multipart/form-data"):
        sent = request.form.get(FIELD)
    return bool(expected and sent) and hmac.compare_digest(str(expected), str(sent))
