"""Cancel a job at a person's request: at once if it has not started, at its next batch otherwise."""
from __future__ import annotations

from collections.abc import Callable

from app.services import job_reads, lifecycle
from app.services.usecases.deps import Deps
from app.services.views import JobView


def cancel_job(deps: Deps, job_id: str, *, actor: str | None,
               may_act: Callable[[str | None], None]) -> JobView:
    """Check that the caller may act on the job (``may_act(created_by)`` raises ``Forbidden``), then cancel."""
    with deps.session() as session:
        may_act(job_reads.get_job(session, job_id).created_by)
        return lifecycle.request_cancel(session, job_id, actor=actor)
