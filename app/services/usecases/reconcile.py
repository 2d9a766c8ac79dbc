"""Reconcile (beat, every RECONCILE_INTERVAL_S): take back lost jobs, ring for queued jobs without a message,
and remove the checkpoints that ended jobs left behind.

Safe to run from several processes at once: every change is a conditional UPDATE.
"""
from __future__ import annotations

import logging
from datetime import timedelta

from app.services import lifecycle, workers
from app.services.usecases.deps import Deps
from app.services.usecases.doorbell import redispatch_stale, ring

log = logging.getLogger(__name__)
SUBMIT_GRACE = timedelta(seconds=2)  # a message being published right now by a submitter


def reconcile(deps: Deps) -> dict[str, int]:
    """One pass; returns how many jobs were requeued, failed, cancelled and rung, and how many ended jobs'
    checkpoints were swept."""
    s = deps.settings
    with deps.session() as session:
        reaped = lifecycle.reap_lost(session, timedelta(seconds=s.lease_s), s.max_attempts)
    rung = ring(deps, reaped.requeued)
    with deps.session() as session:
        queues = workers.routing_queues(session)  # gpu.N queues of multi-GPU jobs included
    live = deps.dispatcher.live_message_ids(queues, unacked_grace_s=s.lease_s)
    if live is None:
        rung += redispatch_stale(deps)
    else:
        with deps.session() as session:
            queued = lifecycle.queued_jobs(session, SUBMIT_GRACE)
        missing = [(job_id, queue) for job_id, queue, _ in queued if job_id not in live and job_id not in rung]
        rung += ring(deps, missing)
    # Last, and never raising: a store that is away must not hold up a ring.
    for job_id in reaped.failed + reaped.cancelled:
        _remove(deps, f"checkpoints/{job_id}")
        _remove(deps, f"batch/{job_id}")
    swept = sweep_checkpoints(deps, timedelta(seconds=s.lease_s))
    return dict(requeued=len(reaped.requeued), failed=len(reaped.failed), cancelled=len(reaped.cancelled),
                rung=len(rung), swept=swept)


def sweep_checkpoints(deps: Deps, ended_before: timedelta) -> int:
    """Remove the checkpoints of jobs that ended more than ``ended_before`` ago; returns how many jobs'
    folders went. Never raises: a store or database error is logged and the next pass tries again.

    A worker clears a job's checkpoints right after the job's last commit; one that dies between the two (a
    kill, a lost host) leaves them in the store for good, a model file or more each. The store is read once a
    pass (one listing of ``checkpoints/``, where only unfinished jobs and such leftovers live); the grace
    (a lease) leaves a live worker's own clear-up alone."""
    try:
        names = {rel.split("/")[1] for rel in deps.store.list("checkpoints") if rel.count("/") >= 2}
        if not names:
            return 0
        with deps.session() as session:
            ended = lifecycle.finished_among(session, sorted(names), ended_before)
    except Exception as exc:  # housekeeping: whatever the store or database says, go on
        log.warning("checkpoint sweep skipped this pass: %s: %s", type(exc).__name__, exc)
        return 0
    return sum(_remove(deps, f"checkpoints/{job_id}") for job_id in ended)


def _remove(deps: Deps, folder: str) -> bool:
    """Remove a folder of the store; False (and a warning) if it will not go, so the next one still does."""
    try:
        deps.store.remove_tree(folder)
        return True
    except Exception as exc:  # housekeeping: the next pass (or the sweep) tries again
        log.warning("could not remove %s from the store: %s: %s", folder, type(exc).__name__, exc)
        return False
