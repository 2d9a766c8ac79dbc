"""The audit log: who submitted, cancelled, promoted, uploaded, created a token, failed to log in."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from app.models import AuditEntry, utcnow


@dataclass(frozen=True)
class AuditView:
    id: int
    at: str
    actor: str | None
    action: str
    target: str
    address: str | None
    detail: dict[str, Any]

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


_INSERT_AUDIT = insert(AuditEntry.__table__)


def record(session: Session, actor: str | None, action: str, target: str = "", *,
           address: str | None = None, detail: dict[str, Any] | None = None) -> None:
    """Insert the row now, with Core (see ``app.services.events.add_event``); it commits with the session."""
    session.connection().execute(_INSERT_AUDIT, {"at": utcnow(), "actor": actor, "action": action,
                                                 "target": target[:255], "address": address,
                                                 "detail": detail or {}})


def entries(session: Session, *, action: str | None = None, actor: str | None = None,
            limit: int = 200) -> list[AuditView]:
    """Newest first, optionally one action or one actor."""
    q = select(AuditEntry).order_by(AuditEntry.at.desc(), AuditEntry.id.desc()).limit(max(1, min(limit, 1000)))
    if action:
        q = q.where(AuditEntry.action == action)
    if actor:
        q = q.where(AuditEntry.actor == actor)
    return [AuditView(e.id, e.at.isoformat(), e.actor, e.action, e.target, e.address, e.detail)
            for e in session.scalars(q)]
