"""Sweeps as a person sees them: create, read, pause, resume, cancel, and register the best trial.

What a sweep may say is app/services/sweep_definition.py; the decisions beat makes while it runs
are app/services/sweep_decisions.py. Each status change here is a conditional UPDATE that also
bumps ``decisions``, so it serialises with beat's decisions on the sweep's row lock.
"""
from __future__ import annotations

import mimetypes
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from app.domain.errors import Conflict, NotFound
from app.domain.status import FINISHED, SweepStatus, TrialStatus
from app.models import Artifact, Dataset, Job, ModelVersion, RegisteredModel, Sweep, SweepTrial, utcnow
from app.services import lifecycle
from app.services.sweep_decisions import ACTIVE, summary, trial_model_name
from app.services.sweep_definition import validate
from app.services.views import _iso

MOVES = {"pause": ((SweepStatus.RUNNING,), SweepStatus.PAUSED), "resume": ((SweepStatus.PAUSED,), SweepStatus.RUNNING),
         "cancel": (ACTIVE, SweepStatus.CANCELLED)}


def _get(session: Session, sweep_id: int) -> Sweep:
    found = session.get(Sweep, sweep_id) if isinstance(sweep_id, int) and 0 < sweep_id < 2**31 else None
    if found is None:
        raise NotFound(f"no sweep {sweep_id}")
    return found


def create(session: Session, raw: Mapping[str, Any], actor: str | None) -> dict[str, Any]:
    """Validate and insert a sweep; beat starts its first trials at its next tick."""
    values = validate(session, raw)
    s = Sweep(**values, status=SweepStatus.RUNNING, decisions=0, created_by=actor, created_at=utcnow())
    session.add(s)
    session.flush()
    return describe(session, s)


def _trial(t: SweepTrial, job: Job | None) -> dict[str, Any]:
    latest = max((int(e) for e in t.values or {}), default=None)
    return {"number": t.number, "params": t.params, "status": t.status, "job_id": t.job_id,
            "job_status": job.status if job else None, "epoch": job.epoch if job else t.epochs_run,
            "epochs_run": t.epochs_run, "metric": t.values.get(str(latest)) if latest else None,
            "value": t.value, "stopped_rung": t.stopped_rung, "stopped_epoch": t.stopped_epoch,
            "values": {int(k): v for k, v in sorted((t.values or {}).items(), key=lambda kv: int(kv[0]))},
            "created_at": _iso(t.created_at), "finished_at": _iso(t.finished_at)}


def describe(session: Session, s: Sweep, trials: bool = True) -> dict[str, Any]:
    rows = list(session.scalars(select(SweepTrial).where(SweepTrial.sweep_id == s.id).order_by(SweepTrial.number)))
    jobs = {j.id: j for j in session.scalars(select(Job).where(Job.id.in_([t.job_id for t in rows if t.job_id])))}
    dataset = session.get(Dataset, s.dataset_id)
    assert dataset is not None
    best = session.get(ModelVersion, s.best_version_id) if s.best_version_id else None
    out = {"id": s.id, "model_name": s.model_name, "kind": s.kind, "dataset": f"{dataset.name}:{dataset.version}",
           "queue": s.queue, "space": s.space, "metric": s.metric, "direction": s.direction,
           "strategy": s.strategy, "seed": s.seed, "status": s.status, "detail": s.detail,
           "budget": {"trials": s.max_trials, "parallel": s.parallel, "epochs": s.epochs,
                      "wall_time_s": s.wall_time_s, "min_epochs": s.min_epochs,
                      "reduction_factor": s.reduction_factor},
           "trials_model_name": trial_model_name(s), "registered_version": best.version if best else None,
           "created_by": s.created_by, "created_at": _iso(s.created_at), "finished_at": _iso(s.finished_at),
           **summary(s, rows)}
    if trials:
        out["trials"] = [_trial(t, jobs.get(t.job_id) if t.job_id else None) for t in rows]
    return out


def get_sweep(session: Session, sweep_id: int) -> dict[str, Any]:
    return describe(session, _get(session, sweep_id))


def list_sweeps(session: Session, limit: int = 100) -> list[dict[str, Any]]:
    rows = session.scalars(select(Sweep).order_by(Sweep.id.desc()).limit(limit))
    return [describe(session, s, trials=False) for s in rows]


def move(session: Session, sweep_id: int, action: str, actor: str | None) -> dict[str, Any]:
    """Pause (start no new trial; running ones go on), resume, or cancel (every unfinished trial is cancelled)."""
    s = _get(session, sweep_id)
    sources, target = MOVES[action]
    moved = session.execute(update(Sweep).where(Sweep.id == s.id, Sweep.status.in_(sources))
                            .values(status=target, decisions=Sweep.decisions + 1,
                                    finished_at=utcnow() if target == SweepStatus.CANCELLED else None)
                            .execution_options(synchronize_session=False))
    session.refresh(s)
    if moved.rowcount != 1:
        raise Conflict(f"sweep {s.id} is {s.status}; only a {' or '.join(sources)} sweep can {action}")
    if target == SweepStatus.CANCELLED:
        open_jobs = session.scalars(select(Job.id).join(SweepTrial, SweepTrial.job_id == Job.id)
                                    .where(SweepTrial.sweep_id == s.id, Job.status.not_in(FINISHED)))
        for job_id in list(open_jobs):
            lifecycle.request_cancel(session, job_id, actor)
    return describe(session, s)


def best_trial(session: Session, s: Sweep) -> SweepTrial:
    trials = list(session.scalars(select(SweepTrial).where(SweepTrial.sweep_id == s.id,
                                                           SweepTrial.status == TrialStatus.COMPLETED,
                                                           SweepTrial.value.is_not(None))))
    if not trials:
        raise Conflict(f"sweep {s.id} has no completed trial yet")
    sign = 1 if s.direction == "maximize" else -1
    return max(trials, key=lambda t: (sign * (t.value or 0.0), -t.number))


def register_best(session: Session, sweep_id: int, actor: str | None, now: datetime | None = None) -> dict[str, Any]:
    """A new version of the sweep's model: the best trial's files, with its lineage (sweep, trial, params).

    Its parent is the trial's own version (under the trials' model); registering twice is a Conflict.
    The caller has made sure the registered model exists (registry.ensure_model, its own transaction).
    """
    s = _get(session, sweep_id)
    if s.best_version_id is not None:
        raise Conflict(f"sweep {s.id} registered its best trial already", details={"version": describe(
            session, s, trials=False)["registered_version"]})
    trial = best_trial(session, s)
    source = session.scalars(select(ModelVersion).where(ModelVersion.job_id == trial.job_id)).first()
    if source is None:
        raise Conflict(f"trial {trial.number}'s version is not registered yet")
    model = session.scalars(select(RegisteredModel).where(RegisteredModel.name == s.model_name)
                            .with_for_update()).one()
    latest = session.scalar(select(func.max(ModelVersion.version)).where(ModelVersion.model_id == model.id))
    lineage = {"sweep": s.id, "trial": trial.number, "params": trial.params, "metric": s.metric,
               "value": trial.value, "strategy": s.strategy}
    version = ModelVersion(model_id=model.id, version=(latest or 0) + 1, job_id=None, kind=source.kind,
                           dataset_id=source.dataset_id, dataset_sha256=source.dataset_sha256,
                           params=source.params, metrics=source.metrics,
                           framework={**source.framework, "sweep": lineage}, parent_version_id=source.id,
                           created_by=actor, created_at=now or utcnow())
    session.add(version)
    session.flush()
    for a in session.scalars(select(Artifact).where(Artifact.version_id == source.id)):
        session.add(Artifact(version_id=version.id, name=a.name, path=a.path, size_bytes=a.size_bytes,
                             sha256=a.sha256, content_type=a.content_type or mimetypes.guess_type(a.name)[0]))
    won = session.execute(update(Sweep).where(Sweep.id == s.id, Sweep.best_version_id.is_(None))
                          .values(best_version_id=version.id).execution_options(synchronize_session=False))
    if won.rowcount != 1:
        raise Conflict(f"sweep {s.id} registered its best trial already")
    return {"model_name": s.model_name, "version": version.version, "lineage": lineage,
            "parent": {"model_name": trial_model_name(s), "version": source.version}}
