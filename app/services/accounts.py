"""Accounts: create, authenticate, change role, disable. Passwords are hashed with argon2id.

argon2id (argon2-cffi) rather than werkzeug's scrypt: it is OWASP's first recommendation, memory-hard,
and ``PasswordHasher.check_needs_rehash`` lets stored hashes move to stronger parameters on the next
login without anyone resetting a password.
"""
from __future__ import annotations

import re
import secrets
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from app.domain.errors import Conflict, Invalid, NotFound
from app.models import AuditEntry, User, utcnow
from app.services import login_throttle

ROLES = ("viewer", "member", "admin")
USERNAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$")
MIN_PASSWORD = 10
MAX_PASSWORD = 1024  # argon2 hashes anything, but a megabyte "password" is only a way to burn CPU
_hasher = PasswordHasher()  # stateless, thread-safe: holds only the cost parameters
# Verifying against this keeps an unknown username as slow as a wrong password (no username probing).
_DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))


@dataclass(frozen=True)
class UserView:
    id: int
    username: str
    role: str
    disabled: bool
    created_at: str
    last_login_at: str | None
    session_epoch: int = 0

    @classmethod
    def of(cls, u: User) -> UserView:
        return cls(u.id, u.username, u.role, u.disabled, u.created_at.isoformat(),
                   u.last_login_at.isoformat() if u.last_login_at else None, u.session_epoch or 0)

    def at_least(self, role: str) -> bool:
        return ROLES.index(self.role) >= ROLES.index(role)


def _check_role(role: str) -> None:
    if role not in ROLES:
        raise Invalid({"role": f"must be one of {', '.join(ROLES)}"})


def _check_password(password: str) -> None:
    if not isinstance(password, str) or not MIN_PASSWORD <= len(password) <= MAX_PASSWORD:
        raise Invalid({"password": f"must be {MIN_PASSWORD}-{MAX_PASSWORD} characters"})


def _get(session: Session, username: str) -> User:
    user = session.scalar(select(User).where(User.username == username))
    if user is None:
        raise NotFound(f"no user {username!r}")
    return user


def create_user(session: Session, username: str, password: str, role: str) -> UserView:
    if not isinstance(username, str) or not USERNAME.match(username):
        raise Invalid({"username": "1-64 letters, digits or . _ @ -, starting with a letter or digit"})
    _check_role(role)
    _check_password(password)
    if session.scalar(select(User.id).where(User.username == username)) is not None:
        raise Conflict(f"user {username!r} exists")
    user = User(username=username, password_hash=_hasher.hash(password), role=role, disabled=False,
                created_at=utcnow())
    session.add(user)
    session.flush()
    return UserView.of(user)


def new_password() -> str:
    """A generated password for the first admin (printed once)."""
    return secrets.token_urlsafe(18)


def any_users(session: Session) -> bool:
    return session.scalar(select(func.count(User.id))) > 0


def list_users(session: Session) -> list[UserView]:
    return [UserView.of(u) for u in session.scalars(select(User).order_by(User.username))]


def get_user(session: Session, user_id: int) -> UserView | None:
    """The account behind a session cookie; None when it was deleted or disabled since."""
    user = session.get(User, user_id)
    return None if user is None or user.disabled else UserView.of(user)


def set_role(session: Session, username: str, role: str) -> UserView:
    _check_role(role)
    user = _get(session, username)
    user.role = role
    return UserView.of(user)


def set_disabled(session: Session, username: str, disabled: bool) -> UserView:
    user = _get(session, username)
    user.disabled = disabled
    return UserView.of(user)


def set_password(session: Session, username: str, password: str) -> UserView:
    _check_password(password)
    user = _get(session, username)
    user.password_hash = _hasher.hash(password)
    user.session_epoch = (user.session_epoch or 0) + 1  # whoever knew the old password is signed out
    return UserView.of(user)


def end_sessions(session: Session, user_id: int) -> None:
    """Sign the account out everywhere: every session cookie issued before now stops being accepted.

    A cookie is signed, not stored, so it cannot be deleted server-side; it carries the epoch it was
    issued in instead, and the guard refuses one whose epoch is no longer the account's.
    """
    session.execute(update(User).where(User.id == user_id).values(session_epoch=User.session_epoch + 1))


def authenticate(sessions: Callable[[], AbstractContextManager[Session]], username: str, password: str,
                 address: str | None, limits: login_throttle.LoginLimits) -> UserView | None:
    """The user if the password matches; None (and a ``login_failed`` audit entry) if not.

    An attempt that comes too soon after recent failures (``login_throttle``) is refused before the
    password is even checked (TooManyAttempts, with the seconds to wait), and is not counted. The
    attempt is written (as a failure) and committed *before* the slow password check, so requests sent
    in parallel count each other instead of all passing the check at once; a success takes it back.
    """
    with sessions() as session:
        # Attempts on one account queue on its row (a no-op UPDATE: a row lock on PostgreSQL, the write
        # lock on SQLite), so the count below always includes every earlier attempt.
        session.execute(update(User).where(User.username == username).values(id=User.id)
                        .execution_options(synchronize_session=False))
        login_throttle.check(session, username, address, limits, utcnow())
        attempt = AuditEntry(at=utcnow(), actor=None, action="login_failed", target=username[:255],
                             address=address, detail={"reason": "checking"})
        session.add(attempt)
        session.flush()
        attempt_id = attempt.id
    with sessions() as session:
        user = session.scalar(select(User).where(User.username == username))
        ok = False
        if isinstance(password, str) and len(password) <= MAX_PASSWORD:
            try:
                ok = _hasher.verify(user.password_hash if user else _DUMMY_HASH, password) and user is not None
            except (VerificationError, InvalidHashError):
                ok = False
        entry = session.get(AuditEntry, attempt_id)
        if not ok or user.disabled:
            if entry is not None:
                entry.detail = {"reason": "disabled" if ok else "bad credentials"}
            return None
        if entry is not None:
            session.delete(entry)  # not a failure after all
        if _hasher.check_needs_rehash(user.password_hash):
            user.password_hash = _hasher.hash(password)
        user.last_login_at = utcnow()
        return UserView.of(user)
