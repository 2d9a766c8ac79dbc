"""API tokens: random, shown once, stored only as a sha256 (a fast hash is enough for 256 random bits)."""
from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

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


def user_for_token(session: Session, token: str) -> UserView | None:
    """The enabled account a live token belongs to (and note when the token was used), or None."""
    if not token.startswith(PREFIX) or len(token) > 128:
        return None
    row = session.execute(select(ApiToken, User).join(User, User.id == ApiToken.user_id)
                          .where(ApiToken.token_sha256 == _digest(token))).first()
    if row is None:
        return None
    tok, user = row
    if tok.revoked_at is not None or user.disabled:
        return None
    now = utcnow()
    if tok.last_used_at is None or now - tok.last_used_at > TOUCH_EVERY:
        tok.last_used_at = now
    return UserView.of(user)


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
