"""Operator tables: live workers (their own heartbeat rows) and webhooks with their outbox."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.domain.status import DeliveryStatus
from app.models.base import Base, UTCDateTime, utcnow


class WorkerRow(Base):
    """One Celery worker, as it last described itself (queues, GPUs); upserted on every beat.

    The database, not Celery's broadcast, is where the web reads workers from: any web process
    sees every worker without asking the broker, and a dead worker shows as a stale beat.
    """

    __tablename__ = "workers"

    name: Mapped[str] = mapped_column(String(255), primary_key=True)  # Celery node name: gpu0@host
    host: Mapped[str] = mapped_column(String(255))
    pid: Mapped[int] = mapped_column(Integer)
    queues: Mapped[list[str]] = mapped_column(JSON, default=list)
    # [{"index", "uuid", "name", "memory_total_mb", "memory_used_mb", "utilization_pct"}]
    gpus: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    heartbeat_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    stopped_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Its job child as the parent sees it: starting | ready | wedged (workers.host.pool_watch).
    pool_state: Mapped[str | None] = mapped_column(String(16))
    pool_state_since: Mapped[datetime | None] = mapped_column(UTCDateTime)
    child_starts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # The model kinds it can run: {"installed": {name: {"package", "version"}}, "broken": [...]}
    # (app.kinds.Catalog.advertised); null for a worker older than kind packages.
    kinds: Mapped[dict[str, Any] | None] = mapped_column(JSON)


class Webhook(Base):
    """A URL told about events: of one model (model_name set) or of all (model_name null)."""

    __tablename__ = "webhooks"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    url: Mapped[str] = mapped_column(String(2000))
    secret: Mapped[str] = mapped_column(String(255))
    model_name: Mapped[str | None] = mapped_column(String(128), index=True)
    events: Mapped[list[str]] = mapped_column(JSON, default=list)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class WebhookDelivery(Base):
    """The outbox: written in the transaction of the event itself, sent later with retries."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (Index("ix_webhook_deliveries_status_next_attempt_at", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    webhook_id: Mapped[int] = mapped_column(ForeignKey("webhooks.id", ondelete="CASCADE"), index=True)
    event: Mapped[str] = mapped_column(String(32))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(16), default=DeliveryStatus.PENDING)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_status_code: Mapped[int | None] = mapped_column(Integer)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
