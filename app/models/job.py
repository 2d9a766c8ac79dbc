"""Jobs and their event timeline: the single source of truth for work to do."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Float, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, UTCDateTime, utcnow


class Job(Base):
    __tablename__ = "jobs"
    __table_args__ = (
        Index("ix_jobs_status_created_at", "status", "created_at"),
        Index("ix_jobs_created_at_id", "created_at", "id"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)  # uuid4; also the Celery task id
    type: Mapped[str] = mapped_column(String(16))  # train | infer
    kind: Mapped[str] = mapped_column(String(32))
    model_name: Mapped[str] = mapped_column(String(128), index=True)
    dataset_id: Mapped[int] = mapped_column(ForeignKey("datasets.id"))
    params: Mapped[dict[str, Any]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(16))
    queue: Mapped[str] = mapped_column(String(16), default="cpu")
    priority: Mapped[int] = mapped_column(Integer, default=0)
    progress: Mapped[float] = mapped_column(Float, default=0.0)
    epoch: Mapped[int] = mapped_column(Integer, default=0)
    total_epochs: Mapped[int] = mapped_column(Integer, default=0)
    metrics: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    error: Mapped[str | None] = mapped_column(Text)
    attempt: Mapped[int] = mapped_column(Integer, default=0)  # claims so far: the fencing token
    # Attempts that ended in a hand-back (a worker shutting down): they do not count against MAX_ATTEMPTS.
    handbacks: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    worker: Mapped[str | None] = mapped_column(String(255))
    heartbeat_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    dispatched_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_by: Mapped[str | None] = mapped_column(String(255))
    idempotency_key: Mapped[str | None] = mapped_column(String(128), unique=True)
    # Requests the worker sees through its heartbeat and obeys at the next batch boundary.
    cancel_requested_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    handback_requested_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # A job that waits for another (a kind's own job waits for its stage's job) stays waiting
    # until that job's version is committed.
    depends_on_job_id: Mapped[str | None] = mapped_column(ForeignKey("jobs.id"), index=True)
    # The model version this job builds on (e.g. the word vectors a classifier starts from).
    input_version_id: Mapped[int | None] = mapped_column(
        ForeignKey("model_versions.id", use_alter=True), index=True)
    # The schedule that fired this job: its new version then goes through the schedule's gate.
    schedule_id: Mapped[int | None] = mapped_column(ForeignKey("schedules.id", ondelete="SET NULL"), index=True)


class JobEvent(Base):
    """One line of a job's timeline: a status change, an epoch's metrics, a log line."""

    __tablename__ = "job_events"
    __table_args__ = (Index("ix_job_events_job_id_id", "job_id", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    job_id: Mapped[str] = mapped_column(ForeignKey("jobs.id", ondelete="CASCADE"))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    kind: Mapped[str] = mapped_column(String(16))  # status | epoch | log
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
