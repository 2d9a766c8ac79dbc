"""API tokens: random, shown once, stored only as a sha256 (a fast hash is enough for 256 random bits)."""
from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import Connection, bindparam, select, update
from sqlalchemy.orm import Session

from app.db import core
from app.domain.errors import Forbidden, Invalid, NotFound
from app.models import ApiToken, User, utcnow
from app.services.accounts import UserView

PREFIX = "ty_"
# last_used_at is written at most this often per token, so reads do not each cost a write.
TOUCH_EVERY = timedelta(seconds=60)


@dataclass(frozen=True)
class TokenView:
    id: int
    username: str
    name: str
    prefix: str
    created_at: str
    last_used_at: str | None
    revoked: bool

    @classmethod
    def of(cls, t: ApiToken, username: str) -> TokenView:
        return cls(t.id, username, t.name, t.prefix, t.created_at.isoformat(),
                   t.last_used_at.isoformat() if t.last_used_at else None, t.revoked_at is not None)


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_token(session: Session, username: str, name: str) -> tuple[TokenView, str]:
    """A new token for ``username``: (its view, the token itself, which is never stored)."""
    name = (name or "").strip() if isinstance(name, str) else ""
    if not 1 <= len(name) <= 64:
        raise Invalid({"name": "required: 1-64 characters, to tell your tokens apart"})
    user = session.scalar(select(User).where(User.username == username))
    if user is None:
        raise NotFound(f"no user {username!r}")
    token = PREFIX + secrets.token_urlsafe(32)
    row = ApiToken(user_id=user.id, name=name, token_sha256=_digest(token), prefix=token[:10],
                   created_at=utcnow())
    session.add(row)
    session.flush()
    return TokenView.of(row, username), token


# Built once and read as plain rows: every API request runs it, and building the statement and hydrating
# two ORM objects cost more than the query (bench/RESULTS.md, "the read path").
_TOKEN_OWNER = (select(ApiToken.id.label("token_id"), ApiToken.revoked_at, ApiToken.last_used_at, User.id,
                       User.username, User.role, User.disabled, User.created_at, User.last_login_at,
                       User.session_epoch)
                .join(User, User.id == ApiToken.user_id).where(ApiToken.token_sha256 == bindparam("digest")))
_TOUCH = update(ApiToken).where(ApiToken.id == bindparam("token_id")).values(last_used_at=bindparam("now"))


def user_for_token(unit: Session | Connection, token: str) -> tuple[UserView, int | None] | None:
    """The enabled account a live token belongs to, with the token's id when its ``last_used_at`` is due a
    write (see ``touch_token``), or None. Read on every request, so a revocation counts at once on every
    worker and host; it writes nothing, so it can share a read route's unit of work."""
    if not token.startswith(PREFIX) or len(token) > 128:
        return None
    row = core(unit).execute(_TOKEN_OWNER, {"digest": _digest(token)}).first()  # Core: no ORM loading
    if row is None or row.revoked_at is not None or row.disabled:
        return None
    due = row.last_used_at is None or utcnow() - row.last_used_at > TOUCH_EVERY
    return UserView.of(row), row.token_id if due else None


def touch_token(session: Session, token_id: int) -> None:
    """Note that a token was used (at most once a minute per token: reads do not each cost a write)."""
    session.execute(_TOUCH, {"token_id": token_id, "now": utcnow()})


def list_tokens(session: Session, username: str | None = None) -> list[TokenView]:
    """Tokens of one user (or of everyone, for an admin), newest first."""
    q = select(ApiToken, User.username).join(User, User.id == ApiToken.user_id).order_by(ApiToken.id.desc())
    if username is not None:
        q = q.where(User.username == username)
    return [TokenView.of(t, name) for t, name in session.execute(q)]


def revoke_token(session: Session, token_id: int, by: UserView) -> TokenView:
    """Revoke a token: its owner or an admin may."""
    row = session.execute(select(ApiToken, User.username).join(User, User.id == ApiToken.user_id)
                          .where(ApiToken.id == token_id)).first()
    if row is None:
        raise NotFound(f"no token {token_id}")
    tok, owner = row
    if owner != by.username and not by.at_least("admin"):
        raise Forbidden("only the token's owner or an admin may revoke it")
    if tok.revoked_at is None:
        tok.revoked_at = utcnow()
    return TokenView.of(tok, owner)
