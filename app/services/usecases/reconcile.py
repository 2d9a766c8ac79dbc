"""Reconcile (beat, every RECONCILE_INTERVAL_S): take back lost jobs, ring for queued jobs without a message.

Safe to run from several processes at once: every change is a conditional UPDATE.
"""
from __future__ import annotations

from datetime import timedelta

from app.services import lifecycle, workers
from app.services.usecases.deps import Deps
from app.services.usecases.doorbell import redispatch_stale, ring

SUBMIT_GRACE = timedelta(seconds=2)  # a message being published right now by a submitter


def reconcile(deps: Deps) -> dict[str, int]:
    """One pass; returns how many jobs were requeued, failed, cancelled and rung."""
    s = deps.settings
    with deps.session() as session:
        reaped = lifecycle.reap_lost(session, timedelta(seconds=s.lease_s), s.max_attempts)
    for job_id in reaped.failed + reaped.cancelled:
        deps.store.remove_tree(f"checkpoints/{job_id}")
        deps.store.remove_tree(f"batch/{job_id}")
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
    return dict(requeued=len(reaped.requeued), failed=len(reaped.failed), cancelled=len(reaped.cancelled),
                rung=len(rung))
