"""A sweep's decisions, made by beat: read its trials' epochs, stop weak trials at a rung, start the next ones.

``advance`` is one transaction per sweep. Its first statement bumps the sweep's ``decisions``
counter, which takes the sweep's row lock: a second beat deciding the same sweep waits for the
first to commit and then sees its trials, so every decision (a trial started, a trial stopped at a
rung, the sweep finished) is made once. The unique (sweep, number) of a trial is the backstop.

A trial's metrics are read from its job's ``epoch`` events and kept per epoch number: a trial killed
and resumed from its checkpoint reports some epochs again, which replace their first report rather
than count twice.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from app.domain.errors import Invalid
from app.domain.status import FINISHED, JobStatus, SweepStatus, TrialStatus
from app.models import Dataset, Job, JobEvent, Sweep, SweepTrial
from app.services import lifecycle
from app.services.queues import dispatchable, mark_dispatched
from app.services.submission import submit_train_job
from app.services.sweep_definition import RESOURCE
from app.services.sweep_search import Point, Setup, judge, suggest

ACTIVE = (SweepStatus.RUNNING, SweepStatus.PAUSED)
ENDED_AS = {JobStatus.SUCCEEDED: TrialStatus.COMPLETED, JobStatus.FAILED: TrialStatus.FAILED,
            JobStatus.CANCELLED: TrialStatus.CANCELLED}


@dataclass
class Advanced:
    sweep_id: int
    started: list[int] = field(default_factory=list)  # trial numbers
    stopped: list[int] = field(default_factory=list)  # trial numbers stopped at a rung
    ended: str | None = None  # the sweep's status when this decision ended it
    to_ring: list[tuple[str, str]] = field(default_factory=list)


def sweeps_to_advance(session: Session) -> list[int]:
    """Active sweeps, and ended ones whose last trials are still finishing (their epochs still count)."""
    unfinished = select(SweepTrial.sweep_id).where(SweepTrial.finished_at.is_(None))
    return list(session.scalars(select(Sweep.id).where(or_(Sweep.status.in_(ACTIVE), Sweep.id.in_(unfinished)))
                                .order_by(Sweep.id)))


def setup_of(s: Sweep) -> Setup:
    return Setup(s.id, s.space, s.strategy, s.direction, s.epochs, s.min_epochs, s.reduction_factor, s.seed)


def trial_model_name(s: Sweep) -> str:
    """Trials register their versions here, apart from the model the best one is registered to."""
    return f"{s.model_name[:100]}.sweep-{s.id}"


def _sync(session: Session, s: Sweep, trials: list[SweepTrial], now: datetime) -> None:
    """Bring each unfinished trial up to date with its job: its epochs' metrics, and its end."""
    open_trials = {t.job_id: t for t in trials if t.finished_at is None and t.job_id}
    if not open_trials:
        return
    jobs = {j.id: j for j in session.scalars(select(Job).where(Job.id.in_(open_trials)))}
    events = session.scalars(select(JobEvent).where(JobEvent.job_id.in_(open_trials), JobEvent.kind == "epoch")
                             .order_by(JobEvent.id))
    values: dict[str, dict[str, float]] = {job_id: dict(t.values or {}) for job_id, t in open_trials.items()}
    for event in events:
        epoch, value = event.payload.get("epoch"), event.payload.get(s.metric)
        if isinstance(epoch, int) and isinstance(value, int | float):
            values[event.job_id][str(epoch)] = float(value)  # a resumed attempt's report replaces the first
    for job_id, t in open_trials.items():
        t.values = values[job_id]
        t.epochs_run = max((int(e) for e in t.values), default=0)
        job = jobs[job_id]
        if job.status in FINISHED:
            t.finished_at = job.finished_at or now
            if t.status == TrialStatus.RUNNING:
                t.status = ENDED_AS[JobStatus(job.status)]
                if t.status == TrialStatus.COMPLETED:
                    found = t.values.get(str(t.epochs_run), (job.metrics or {}).get(s.metric))
                    t.value = float(found) if isinstance(found, int | float) else None


def _points(trials: list[SweepTrial]) -> list[Point]:
    return [Point(t.number, dict(t.params), t.status, {int(k): v for k, v in (t.values or {}).items()},
                  t.value, dict(t.pruner_state or {})) for t in trials]


def _judge(session: Session, s: Sweep, trials: list[SweepTrial], out: Advanced, actor: str) -> None:
    """Show the pruner each running trial's new epochs; stop those it says are weak at their rung."""
    points = _points(trials)
    by_number = {p.number: p for p in points}
    for t in trials:
        if t.status != TrialStatus.RUNNING or t.epochs_run <= t.judged_epoch or t.epochs_run >= s.epochs:
            continue
        stop, rung, state = judge(setup_of(s), points, t.number)
        t.judged_epoch, t.pruner_state = t.epochs_run, state
        by_number[t.number].pruner_state = state
        if stop:
            t.status, t.stopped_rung, t.stopped_epoch = TrialStatus.PRUNED, rung, t.epochs_run
            by_number[t.number].status = TrialStatus.PRUNED
            out.stopped.append(t.number)
            _stop_job(session, t.job_id, actor)


def _stop_job(session: Session, job_id: str | None, actor: str) -> None:
    job = session.get(Job, job_id) if job_id else None
    if job is not None and job.status not in FINISHED:
        lifecycle.request_cancel(session, job.id, actor)


def _start(session: Session, s: Sweep, trials: list[SweepTrial], out: Advanced, now: datetime) -> bool:
    """Start trials up to the parallel budget; False when the search has no point left to try."""
    busy = sum(1 for t in trials if t.finished_at is None)
    dataset = session.get(Dataset, s.dataset_id)
    assert dataset is not None
    while busy < s.parallel and len(trials) < s.max_trials:
        number = len(trials)
        params = suggest(setup_of(s), _points(trials), number)
        if params is None:
            return False
        fixed = {n: e["value"] for n, e in s.space.items() if e["type"] == "fixed"}
        try:
            job, _ = submit_train_job(session, {
                "kind": s.kind, "dataset": f"{dataset.name}:{dataset.version}", "model_name": trial_model_name(s),
                "queue": s.queue, "params": {**fixed, **params, RESOURCE: s.epochs}}, created_by=s.created_by)
        except Invalid as exc:  # e.g. no live worker has the kind now: try again at the next tick
            s.detail = f"waiting to start trial {number}: {exc.message}"
            return True
        trial = SweepTrial(sweep_id=s.id, number=number, params=params, job_id=job.id, status=TrialStatus.RUNNING,
                           values={}, pruner_state={}, created_at=now)
        session.add(trial)
        session.flush()
        trials.append(trial)
        out.started.append(number)
        out.to_ring += dispatchable(session, job.id)
        busy += 1
        s.detail = None
    return len(trials) < s.max_trials


def advance(session: Session, sweep_id: int, now: datetime) -> Advanced | None:
    """One round of decisions for one sweep (see the module's note); None if there is no such sweep."""
    locked = session.execute(update(Sweep).where(Sweep.id == sweep_id).values(decisions=Sweep.decisions + 1)
                             .execution_options(synchronize_session=False))
    if locked.rowcount != 1:
        return None
    s = session.get(Sweep, sweep_id, populate_existing=True)
    assert s is not None
    trials = list(session.scalars(select(SweepTrial).where(SweepTrial.sweep_id == sweep_id)
                                  .order_by(SweepTrial.number).execution_options(populate_existing=True)))
    out = Advanced(sweep_id)
    _sync(session, s, trials, now)
    actor = f"sweep:{s.id}"
    if s.status in ACTIVE:
        _judge(session, s, trials, out, actor)
    more = True
    if s.status == SweepStatus.RUNNING:
        if s.wall_time_s and now >= s.created_at + timedelta(seconds=s.wall_time_s):
            more, s.detail = False, "wall time spent"
            for t in trials:
                _stop_job(session, t.job_id, actor)
        else:
            more = _start(session, s, trials, out, now)
    if s.status == SweepStatus.RUNNING and not more and all(t.finished_at is not None for t in trials):
        s.status, s.finished_at, out.ended = SweepStatus.FINISHED, now, SweepStatus.FINISHED
    mark_dispatched(session, [job_id for job_id, _ in out.to_ring])
    session.flush()
    return out


def summary(s: Sweep, trials: list[SweepTrial]) -> dict[str, Any]:
    """The figures the sweep page shows: the best trial, the best-so-far curve, the epochs saved."""
    sign = 1 if s.direction == "maximize" else -1
    best, curve = None, []
    for t in sorted((t for t in trials if t.value is not None), key=lambda t: (t.finished_at, t.number)):
        if best is None or sign * t.value > sign * best.value:
            best = t
        curve.append({"trial": t.number, "value": t.value, "best": best.value})
    return {"best_trial": best.number if best else None, "best_value": best.value if best else None,
            "best_so_far": curve, "epochs_spent": sum(t.epochs_run for t in trials),
            "epochs_saved": sum(s.epochs - t.epochs_run for t in trials if t.status == TrialStatus.PRUNED),
            "stopped_early": sum(1 for t in trials if t.status == TrialStatus.PRUNED),
            "trials_started": len(trials)}
