"""Model-version lookups that submissions, the registry, aliases and batch jobs all need."""
from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, select, update
from sqlalchemy.orm import Session

from app.domain.errors import NotFound
from app.models import ModelVersion, RegisteredModel


def lock_version(session: Session, version_id: int) -> ModelVersion:
    """Take the version's row lock, then read it afresh: promote, archive and batch submissions of one
    version serialise. A no-op UPDATE is the lock on both databases: a row lock on PostgreSQL, and the
    write lock on SQLite, which ``SELECT ... FOR UPDATE`` does not take."""
    session.execute(update(ModelVersion).where(ModelVersion.id == version_id).values(id=ModelVersion.id)
                    .execution_options(synchronize_session=False))
    return session.scalars(select(ModelVersion).where(ModelVersion.id == version_id)
                           .execution_options(populate_existing=True)).one()


def resolve_version(session: Session, ref: str) -> ModelVersion:
    """A live (not archived) version from ``"model:version"`` or ``"model"`` (its newest)."""
    name, _, number = ref.partition(":")
    query = (select(ModelVersion).join(RegisteredModel, RegisteredModel.id == ModelVersion.model_id)
             .where(RegisteredModel.name == name, ModelVersion.archived_at.is_(None)))
    if number:
        if not number.isascii() or not number.isdecimal() or len(number) > 9:
            raise NotFound(f"version {number!r} of {name!r} is not a number")
        query = query.where(ModelVersion.version == int(number))
    found = session.scalars(query.order_by(ModelVersion.version.desc())).first()
    if found is None:
        raise NotFound(f"no live model version {ref!r}")
    return found


def version_refs(unit: Session | Connection, ids: set[int]) -> dict[int, dict[str, Any]]:
    """{version id: {"model_name", "version"}} for display of lineage and inputs."""
    if not ids:
        return {}
    rows = unit.execute(select(ModelVersion.id, RegisteredModel.name, ModelVersion.version)
                        .join(RegisteredModel, RegisteredModel.id == ModelVersion.model_id)
                        .where(ModelVersion.id.in_(ids)))
    return {r.id: {"model_name": r.name, "version": r.version} for r in rows}
