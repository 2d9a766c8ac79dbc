"""Idempotency keys: a repeated submission with the same key gets the first job back."""
from __future__ import annotations

import hashlib

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import Job
from app.services.job_reads import get_job
from app.services.views import JobView


def scoped_key(created_by: str | None, idempotency_key: str | None) -> str | None:
    """The stored form of an idempotency key: scoped to who submitted it, so nobody can claim (or
    predict their way into) another account's or a schedule's submissions with a key of theirs."""
    if not idempotency_key:
        return None
    return hashlib.sha256(f"{created_by or ''}\0{idempotency_key}".encode()).hexdigest()


def job_for_key(session: Session, idempotency_key: str) -> JobView | None:
    """The job submitted with this idempotency key, if any."""
    found = session.scalars(select(Job.id).where(Job.idempotency_key == idempotency_key)).first()
    return get_job(session, found) if found else None
