"""Submit a training job or a batch-inference job: commit the job, then ring the doorbell.

A repeated ``Idempotency-Key`` returns the first job (``created`` False); two submissions
racing with one key end in an IntegrityError for the loser, which then returns the winner.
``audit``, when given, writes the caller's audit row in the same unit of work as the job: the two
commit together, and no failed audit write can follow a committed job.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.services.batch import submit_infer_job
from app.services.idempotency import job_for_key, scoped_key
from app.services.queues import mark_dispatched
from app.services.submission import submit_train_job
from app.services.usecases.deps import Deps
from app.services.usecases.doorbell import ring_marked
from app.services.views import JobView

Submit = Callable[..., tuple[JobView, bool]]
Audit = Callable[[Session, JobView], None]  # writes the audit row naming the job, in the job's unit


def submit_training(deps: Deps, raw: Mapping[str, Any], *, created_by: str | None = None,
                    idempotency_key: str | None = None, audit: Audit | None = None) -> tuple[JobView, bool]:
    """A training job (two linked jobs for a kind with a stage); returns (job, created)."""
    return _submit(deps, submit_train_job, raw, created_by, idempotency_key, audit)


def submit_batch(deps: Deps, raw: Mapping[str, Any], *, created_by: str | None = None,
                 idempotency_key: str | None = None, audit: Audit | None = None) -> tuple[JobView, bool]:
    """A batch-inference job; its model version is resolved now and recorded."""
    def submit(session: Session, raw: Mapping[str, Any], **kw: Any) -> tuple[JobView, bool]:
        return submit_infer_job(session, raw, default_chunk_rows=deps.settings.batch_chunk_rows, **kw)

    return _submit(deps, submit, raw, created_by, idempotency_key, audit)


def _submit(deps: Deps, submit: Submit, raw: Mapping[str, Any], created_by: str | None,
            idempotency_key: str | None, audit: Audit | None) -> tuple[JobView, bool]:
    idempotency_key = scoped_key(created_by, idempotency_key)
    try:
        with deps.session() as session:
            job, created = submit(session, raw, created_by=created_by, idempotency_key=idempotency_key)
            # Marked rung in this commit (see ring_marked): the job, and the stage it waits for if any.
            to_ring = mark_dispatched(session, [job.id, *filter(None, [job.depends_on])]) if created else []
            if audit is not None:
                audit(session, job)
    except IntegrityError:
        if not idempotency_key:
            raise
        with deps.session() as session:  # a concurrent submission with the same key won
            winner = job_for_key(session, idempotency_key)
            if winner is not None and audit is not None:
                audit(session, winner)
        if winner is None:
            raise
        return winner, False
    ring_marked(deps, to_ring)
    return job, created
