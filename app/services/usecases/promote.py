"""Move an alias: promote a version to it, or roll it back to where it pointed before its last move.

Two first promotes of one alias at once race for its unique row: the loser gets a ``Conflict``.
"""
from __future__ import annotations

from typing import Any

from sqlalchemy.exc import IntegrityError

from app.announce import announce_alias
from app.domain.errors import Conflict
from app.services import aliases
from app.services.usecases.deps import Deps


def promote(deps: Deps, name: str, alias: str, version: int, *, reason: str | None = None,
            expected_version: int | None = None, actor: str | None = None) -> dict[str, Any]:
    """Point ``alias`` of model ``name`` at ``version`` (recorded in the alias history)."""
    try:
        with deps.session() as session:
            moved = aliases.promote(session, name, alias, version, reason=reason,
                                    expected_version=expected_version, actor=actor)
    except IntegrityError:
        raise _lost_race(name, alias) from None
    announce_alias(deps.settings.redis_url, name, alias)  # after the commit: serve re-reads the row
    return moved


def rollback(deps: Deps, name: str, alias: str, *, reason: str | None = None,
             expected_version: int | None = None, actor: str | None = None) -> dict[str, Any]:
    """Return ``alias`` to the version it pointed at before its last move."""
    try:
        with deps.session() as session:
            moved = aliases.rollback(session, name, alias, reason=reason, expected_version=expected_version,
                                     actor=actor)
    except IntegrityError:
        raise _lost_race(name, alias) from None
    announce_alias(deps.settings.redis_url, name, alias)
    return moved


def _lost_race(name: str, alias: str) -> Conflict:
    return Conflict(f"{alias} of {name} was set by someone else meanwhile; reload and try again")
