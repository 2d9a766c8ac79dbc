"""Reading jobs: one job (the hottest query of the platform) and keyset-paginated lists."""
from __future__ import annotations

import base64
from datetime import datetime

from sqlalchemy import Connection, and_, bindparam, or_, select
from sqlalchemy.orm import Session

from app.db import core
from app.domain.errors import Invalid, NotFound
from app.domain.status import JobStatus
from app.models import Dataset, Job, ModelVersion
from app.services.versions import version_refs
from app.services.views import JobView

MAX_PAGE = 200
_STATUSES = tuple(JobStatus)

# Built once: the job poll is the hottest query of the platform. The columns a view shows, not the entity:
# rows, not ORM objects (hydrating a Job and its identity map cost a third of a poll's time).
_VIEW_COLUMNS = (Job.id, Job.type, Job.kind, Job.model_name, Job.params, Job.status, Job.queue, Job.progress,
                 Job.epoch, Job.total_epochs, Job.metrics, Job.error, Job.attempt, Job.worker, Job.created_at,
                 Job.started_at, Job.finished_at, Job.heartbeat_at, Job.created_by, Job.depends_on_job_id,
                 Job.input_version_id)
_JOB_ROWS = (select(*_VIEW_COLUMNS, Dataset.name.label("dataset_name"), Dataset.version.label("dataset_version"),
                    ModelVersion.version.label("version"))
             .join(Dataset, Dataset.id == Job.dataset_id)
             .outerjoin(ModelVersion, ModelVersion.job_id == Job.id))
_ONE_JOB = _JOB_ROWS.where(Job.id == bindparam("job_id"))


def _view(row, refs: dict) -> JobView:
    return JobView.of(row, row.dataset_name, row.dataset_version, row.version, refs.get(row.input_version_id))


def get_job(unit: Session | Connection, job_id: str) -> JobView:
    row = core(unit).execute(_ONE_JOB, {"job_id": job_id}).first()  # Core: rows, no ORM loading
    if row is None:
        raise NotFound(f"no job {job_id!r}")
    return _view(row, version_refs(core(unit), {row.input_version_id} - {None}))


def _encode_cursor(created_at: datetime, job_id: str) -> str:
    return base64.urlsafe_b64encode(f"{created_at.isoformat()}|{job_id}".encode()).decode().rstrip("=")


def _decode_cursor(cursor: str) -> tuple[datetime, str]:
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        stamp, job_id = text.split("|", 1)
        return datetime.fromisoformat(stamp), job_id
    except (ValueError, UnicodeDecodeError):
        raise Invalid({"cursor": "not a cursor returned by this API"}) from None


def list_jobs(session: Session, *, status: str | None = None, model_name: str | None = None,
              kind: str | None = None, created_by: str | None = None, oldest_first: bool = False,
              limit: int = 50, cursor: str | None = None) -> tuple[list[JobView], str | None]:
    """Newest (or oldest) first, keyset-paginated so any page is fast; returns (page, next cursor or None).

    No COUNT(*): at 100,000 jobs a total costs more than the page itself.
    """
    errors = {}
    if status is not None and status not in _STATUSES:
        errors["status"] = f"must be one of {', '.join(_STATUSES)}"
    if not 1 <= limit <= MAX_PAGE:
        errors["limit"] = f"must be between 1 and {MAX_PAGE}"
    if errors:
        raise Invalid(errors)
    query = _JOB_ROWS
    if status:
        query = query.where(Job.status == status)
    if model_name:
        query = query.where(Job.model_name == model_name)
    if kind:
        query = query.where(Job.kind == kind)
    if created_by:
        query = query.where(Job.created_by == created_by)
    if cursor:
        at, last_id = _decode_cursor(cursor)
        if oldest_first:
            query = query.where(or_(Job.created_at > at, and_(Job.created_at == at, Job.id > last_id)))
        else:
            query = query.where(or_(Job.created_at < at, and_(Job.created_at == at, Job.id < last_id)))
    order = (Job.created_at.asc(), Job.id.asc()) if oldest_first else (Job.created_at.desc(), Job.id.desc())
    rows = session.connection().execute(query.order_by(*order).limit(limit + 1)).all()
    refs = version_refs(session, {r.input_version_id for r in rows[:limit]} - {None})
    page = [_view(r, refs) for r in rows[:limit]]
    next_cursor = None
    if len(rows) > limit:
        last = rows[limit - 1]
        next_cursor = _encode_cursor(last.created_at, last.id)
    return page, next_cursor
