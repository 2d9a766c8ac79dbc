"""Aliases: promote a version, roll back step by step, and the history of every move.

Each move is one transaction that updates the alias conditionally on its revision and
appends a history row, so two people moving an alias at once cannot both win: the
second gets a Conflict naming what happened, and the history stays complete.
"""
from __future__ import annotations

import re
from typing import Any

from sqlalchemy import Connection, bindparam, select, update
from sqlalchemy.orm import Session

from app.db import core
from app.domain.errors import Conflict, Invalid, NotFound
from app.models import AliasHistory, ModelAlias, ModelVersion, RegisteredModel, utcnow
from app.services import webhooks
from app.services.versions import lock_version, version_refs

ALIAS = re.compile(r"^[a-z][a-z0-9_-]{0,31}$")


def _model(session: Session, name: str) -> RegisteredModel:
    model = session.scalars(select(RegisteredModel).where(RegisteredModel.name == name)).first()
    if model is None:
        raise NotFound(f"no model {name!r}")
    return model


def _check(alias: str, reason: str | None) -> str:
    errors = {}
    if not isinstance(alias, str) or not ALIAS.match(alias):
        errors["alias"] = "1-32 lowercase letters, digits, '-' or '_', starting with a letter"
    if not isinstance(reason, str) or not reason.strip():
        errors["reason"] = "required: say why the alias moves"
    if errors:
        raise Invalid(errors)
    return reason.strip()


MOVES = ("promote", "auto-promote")  # what a rollback undoes; "gate-kept" rows record a decision, not a move


def _move(session: Session, model: RegisteredModel, alias: str, target: ModelVersion, action: str,
          actor: str | None, reason: str, expected_version: int | None, reverts_id: int | None = None,
          details: dict[str, Any] | None = None) -> dict:
    row = session.scalars(select(ModelAlias).where(ModelAlias.model_id == model.id, ModelAlias.alias == alias)
                          ).first()
    current = session.get(ModelVersion, row.version_id) if row else None
    if current is not None and current.id == target.id and action != "rollback":
        raise Conflict(f"{alias} of {model.name} already points at v{target.version}")
    if expected_version is not None and (current.version if current else None) != expected_version:
        raise Conflict(f"{alias} of {model.name} now points at "
                       f"{'v' + str(current.version) if current else 'nothing'}, not v{expected_version}: "
                       "someone moved it meanwhile; reload and try again")
    if row is None:
        row = ModelAlias(model_id=model.id, alias=alias, version_id=target.id, revision=1, updated_at=utcnow())
        session.add(row)
        session.flush()  # a concurrent first promote fails here on the unique (model, alias)
    else:
        moved = session.execute(
            update(ModelAlias).where(ModelAlias.id == row.id, ModelAlias.revision == row.revision)
            .values(version_id=target.id, revision=row.revision + 1, updated_at=utcnow())
            .execution_options(synchronize_session=False))
        if moved.rowcount != 1:
            raise Conflict(f"{alias} of {model.name} was moved by someone else meanwhile; reload and try again")
    session.add(AliasHistory(model_id=model.id, alias=alias, action=action,
                             from_version_id=current.id if current else None, to_version_id=target.id,
                             reverts_id=reverts_id, actor=actor, reason=reason, at=utcnow(), details=details,
                             from_metrics=current.metrics if current else {}, to_metrics=target.metrics))
    session.flush()
    moved = {"model_name": model.name, "alias": alias, "version": target.version,
             "from_version": current.version if current else None, "action": action}
    webhooks.enqueue(session, "alias.moved", model.name, {**moved, "actor": actor, "reason": reason})
    return moved


def promote(session: Session, name: str, alias: str, version: int, *, reason: str, actor: str | None = None,
            expected_version: int | None = None, action: str = "promote",
            details: dict[str, Any] | None = None) -> dict:
    """Point ``alias`` at ``version`` (a live version of this model)."""
    reason = _check(alias, reason)
    model = _model(session, name)
    if not 0 < version < 2**31:
        raise NotFound(f"model {name!r} has no version {version}")
    # Locked: an archive of this version running now either committed first (and is
    # seen below) or waits for this move and then sees the alias.
    target = session.scalars(select(ModelVersion).where(ModelVersion.model_id == model.id,
                                                        ModelVersion.version == version)).first()
    if target is None:
        raise NotFound(f"model {name!r} has no version {version}")
    target = lock_version(session, target.id)
    if target.archived_at is not None:
        raise Conflict(f"{name} v{version} is archived and cannot be promoted")
    return _move(session, model, alias, target, action, actor, reason, expected_version, details=details)


def rollback(session: Session, name: str, alias: str, *, reason: str, actor: str | None = None,
             expected_version: int | None = None) -> dict:
    """Return ``alias`` to where it pointed before its last move that is not yet undone."""
    reason = _check(alias, reason)
    model = _model(session, name)
    row = session.scalars(select(ModelAlias).where(ModelAlias.model_id == model.id, ModelAlias.alias == alias)
                          ).first()
    if row is None:
        raise NotFound(f"{name} has no alias {alias!r}")
    undone = set(session.scalars(select(AliasHistory.reverts_id).where(
        AliasHistory.model_id == model.id, AliasHistory.alias == alias, AliasHistory.reverts_id.is_not(None))))
    moves = session.scalars(select(AliasHistory).where(
        AliasHistory.model_id == model.id, AliasHistory.alias == alias, AliasHistory.action.in_(MOVES))
        .order_by(AliasHistory.id.desc()))
    last = next((m for m in moves if m.id not in undone and m.to_version_id == row.version_id), None)
    if last is None or last.from_version_id is None:
        raise Conflict(f"{alias} of {name} has no earlier version to roll back to")
    target = session.get(ModelVersion, last.from_version_id)
    assert target is not None
    if target.archived_at is not None:
        raise Conflict(f"{alias} of {name} would go back to v{target.version}, which is archived")
    return _move(session, model, alias, target, "rollback", actor, reason, expected_version, reverts_id=last.id)


def aliases_of(session: Session, name: str) -> dict[str, int]:
    """{alias: version number} of one model."""
    model = _model(session, name)
    rows = session.execute(select(ModelAlias.alias, ModelVersion.version)
                           .join(ModelVersion, ModelVersion.id == ModelAlias.version_id)
                           .where(ModelAlias.model_id == model.id).order_by(ModelAlias.alias))
    return {a: v for a, v in rows}


# Built once, run as a Core statement: what a client that follows an alias polls (MLflow's get-by-alias).
_ALIAS_TARGET = (select(ModelVersion.version)
                 .join(ModelAlias, ModelAlias.version_id == ModelVersion.id)
                 .join(RegisteredModel, RegisteredModel.id == ModelAlias.model_id)
                 .where(RegisteredModel.name == bindparam("name"), ModelAlias.alias == bindparam("alias")))


_MODEL_ID = select(RegisteredModel.id).where(RegisteredModel.name == bindparam("name"))


def alias_target(unit: Session | Connection, name: str, alias: str) -> int:
    """The version number ``alias`` of model ``name`` points at now (one indexed query)."""
    found = core(unit).execute(_ALIAS_TARGET, {"name": name, "alias": alias}).scalar()
    if found is None:
        if core(unit).execute(_MODEL_ID, {"name": name}).first() is None:
            raise NotFound(f"no model {name!r}")  # a 404 that names the model when there is no such model
        raise NotFound(f"{name} has no alias {alias!r}")
    return found


def every_alias(session: Session) -> dict[tuple[str, str], int]:
    """{(model name, alias): version number} of every model: what the serve process warms and re-checks."""
    rows = session.execute(select(RegisteredModel.name, ModelAlias.alias, ModelVersion.version)
                           .join(ModelAlias, ModelAlias.model_id == RegisteredModel.id)
                           .join(ModelVersion, ModelVersion.id == ModelAlias.version_id))
    return {(name, alias): version for name, alias, version in rows}


def history(session: Session, name: str, alias: str | None = None) -> list[dict[str, Any]]:
    """Every move of the model's aliases, newest first."""
    model = _model(session, name)
    query = select(AliasHistory).where(AliasHistory.model_id == model.id)
    if alias:
        query = query.where(AliasHistory.alias == alias)
    rows = session.scalars(query.order_by(AliasHistory.id.desc())).all()
    refs = version_refs(session, {r.to_version_id for r in rows} | {r.from_version_id for r in rows} - {None})
    return [{"id": r.id, "alias": r.alias, "action": r.action,
             "from_version": refs[r.from_version_id]["version"] if r.from_version_id else None,
             "to_version": refs[r.to_version_id]["version"], "actor": r.actor, "reason": r.reason,
             "at": r.at.isoformat().replace("+00:00", "Z"), "from_metrics": _headline(r.from_metrics),
             "to_metrics": _headline(r.to_metrics), "reverts": r.reverts_id, "details": r.details}
            for r in rows]


def resolve_alias(session: Session, name: str, alias: str) -> ModelVersion:
    model = _model(session, name)
    row = session.scalars(select(ModelAlias).where(ModelAlias.model_id == model.id, ModelAlias.alias == alias)
                          ).first()
    if row is None:
        raise NotFound(f"{name} has no alias {alias!r}")
    version = session.get(ModelVersion, row.version_id)
    assert version is not None
    return version


def _headline(metrics: dict[str, Any]) -> dict[str, Any]:
    """The metrics worth showing next to a move (not the confusion matrix)."""
    keys = ("test_accuracy", "test_macro_f1", "test_loss", "wordsim353_spearman")
    return {k: metrics[k] for k in keys if k in (metrics or {})}
