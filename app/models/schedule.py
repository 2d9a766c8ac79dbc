"""Scheduled retrains: a cron, a job template, a promotion policy, and every firing of it."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, UTCDateTime, utcnow


class Schedule(Base):
    __tablename__ = "schedules"
    __table_args__ = (Index("ix_schedules_enabled_next_due_at", "enabled", "next_due_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(128), unique=True)
    model_name: Mapped[str] = mapped_column(String(128), index=True)
    # The job template: the dataset name always means its newest version at run time.
    kind: Mapped[str] = mapped_column(String(32))
    dataset_name: Mapped[str] = mapped_column(String(128))
    params: Mapped[dict[str, Any]] = mapped_column(JSON)
    queue: Mapped[str] = mapped_column(String(16), default="cpu")
    cron: Mapped[str] = mapped_column(String(128))
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    # Promotion policy: move `alias` to the new version only if `metric` improves by `min_improvement`.
    metric: Mapped[str] = mapped_column(String(64), default="test_accuracy")
    higher_is_better: Mapped[bool] = mapped_column(Boolean, default=True)
    min_improvement: Mapped[float] = mapped_column(Float, default=0.0)
    alias: Mapped[str] = mapped_column(String(32), default="production")
    overlap: Mapped[str] = mapped_column(String(16), default="skip")  # skip | replace
    catchup: Mapped[str] = mapped_column(String(16), default="once")  # once | skip
    only_if_data_changed: Mapped[bool] = mapped_column(Boolean, default=False)
    max_failures: Mapped[int] = mapped_column(Integer, default=3)
    consecutive_failures: Mapped[int] = mapped_column(Integer, default=0)
    paused_reason: Mapped[str | None] = mapped_column(Text)
    # The next due time (UTC); moved forward by whoever fires it, conditionally on its old value.
    next_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_by: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ScheduleRun(Base):
    """One due time of a schedule. Unique per (schedule, due time): the guard against double firing."""

    __tablename__ = "schedule_runs"
    __table_args__ = (UniqueConstraint("schedule_id", "due_at"),
                      Index("ix_schedule_runs_schedule_id_id", "schedule_id", "id"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    schedule_id: Mapped[int] = mapped_column(ForeignKey("schedules.id", ondelete="CASCADE"))
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    fired_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # started | skipped-overlap | skipped-unchanged | skipped-missed | skipped-invalid
    status: Mapped[str] = mapped_column(String(24))
    job_id: Mapped[str | None] = mapped_column(ForeignKey("jobs.id"), index=True)
    # Set once the job ended: succeeded | failed | cancelled (a failure counts towards the pause).
    outcome: Mapped[str | None] = mapped_column(String(16))
    detail: Mapped[str | None] = mapped_column(Text)
