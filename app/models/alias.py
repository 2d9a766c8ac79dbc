"""Aliases (``production``, ``staging``) pointing at versions, and every move of them."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, UTCDateTime, utcnow


class ModelAlias(Base):
    __tablename__ = "model_aliases"
    __table_args__ = (UniqueConstraint("model_id", "alias"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    model_id: Mapped[int] = mapped_column(ForeignKey("registered_models.id"))
    alias: Mapped[str] = mapped_column(String(32))
    version_id: Mapped[int] = mapped_column(ForeignKey("model_versions.id"))
    # Bumped by every move: moves are conditional on it, so two concurrent moves cannot both win.
    revision: Mapped[int] = mapped_column(Integer, default=1)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class AliasHistory(Base):
    """One move of an alias: promote, rollback or auto-promote, with who, why and both metrics."""

    __tablename__ = "alias_history"
    __table_args__ = (Index("ix_alias_history_model_id_alias_id", "model_id", "alias", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    model_id: Mapped[int] = mapped_column(ForeignKey("registered_models.id"))
    alias: Mapped[str] = mapped_column(String(32))
    # promote | rollback | auto-promote | gate-kept (a challenger the gate did not promote: no move)
    action: Mapped[str] = mapped_column(String(16))
    from_version_id: Mapped[int | None] = mapped_column(ForeignKey("model_versions.id"))
    to_version_id: Mapped[int] = mapped_column(ForeignKey("model_versions.id"))
    # A rollback names the move it undoes; an undone move is skipped by the next rollback.
    reverts_id: Mapped[int | None] = mapped_column(ForeignKey("alias_history.id"))
    actor: Mapped[str | None] = mapped_column(String(255))
    reason: Mapped[str] = mapped_column(Text)
    from_metrics: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    to_metrics: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # The gate's decision: policy, both metrics on the same test data, where each came from.
    details: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
