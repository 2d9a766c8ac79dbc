"""Sweeps: a search over a kind's parameters, and its trials (each one an ordinary training job)."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, UTCDateTime, utcnow


class Sweep(Base):
    __tablename__ = "sweeps"
    __table_args__ = (Index("ix_sweeps_status", "status"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    model_name: Mapped[str] = mapped_column(String(128), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    dataset_id: Mapped[int] = mapped_column(ForeignKey("datasets.id"))
    queue: Mapped[str] = mapped_column(String(16), default="cpu")
    # name -> {"type": "fixed", "value"} | {"type": "list", "values"} | {"type": "range", "min", "max", "scale"}
    space: Mapped[dict[str, Any]] = mapped_column(JSON)
    metric: Mapped[str] = mapped_column(String(64))
    direction: Mapped[str] = mapped_column(String(8))  # maximize | minimize
    strategy: Mapped[str] = mapped_column(String(16))  # grid | random | asha | hyperband
    max_trials: Mapped[int] = mapped_column(Integer)
    parallel: Mapped[int] = mapped_column(Integer)
    epochs: Mapped[int] = mapped_column(Integer)  # per trial: the most a trial may run
    min_epochs: Mapped[int] = mapped_column(Integer, default=1)  # the first rung
    reduction_factor: Mapped[int] = mapped_column(Integer, default=3)
    wall_time_s: Mapped[int | None] = mapped_column(Integer)
    seed: Mapped[int] = mapped_column(Integer, default=0)
    status: Mapped[str] = mapped_column(String(16))  # running | paused | finished | cancelled
    detail: Mapped[str | None] = mapped_column(Text)  # why it ended
    # Every decision bumps this, conditionally on the value it read: two beats never decide twice.
    decisions: Mapped[int] = mapped_column(Integer, default=0)
    best_version_id: Mapped[int | None] = mapped_column(ForeignKey("model_versions.id"))
    created_by: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class SweepTrial(Base):
    """One point of the search. Unique per (sweep, number): the guard against starting a trial twice."""

    __tablename__ = "sweep_trials"
    __table_args__ = (UniqueConstraint("sweep_id", "number"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    sweep_id: Mapped[int] = mapped_column(ForeignKey("sweeps.id", ondelete="CASCADE"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    params: Mapped[dict[str, Any]] = mapped_column(JSON)  # the sampled ones only
    job_id: Mapped[str | None] = mapped_column(ForeignKey("jobs.id"), index=True)
    status: Mapped[str] = mapped_column(String(16))  # running | completed | pruned | failed | cancelled
    # The metric per epoch ({"3": 0.91}), keyed by epoch: an epoch reported again after a resume
    # from a checkpoint replaces its value instead of counting twice.
    values: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    epochs_run: Mapped[int] = mapped_column(Integer, default=0)
    value: Mapped[float | None] = mapped_column(Float)  # the metric at the trial's last epoch
    judged_epoch: Mapped[int] = mapped_column(Integer, default=0)  # the last epoch the pruner saw
    stopped_rung: Mapped[int | None] = mapped_column(Integer)  # stopped early at this rung
    stopped_epoch: Mapped[int | None] = mapped_column(Integer)
    pruner_state: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # the pruner's rung records
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
