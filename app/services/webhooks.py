"""Webhooks: who wants to hear about which events, and the outbox of deliveries owed to them.

Events are written to the outbox (webhook_deliveries) in the same transaction as the change
they announce, so an event is never announced without happening nor lost after it happened.
A sender (the beat process, workers.beat.webhook_sender) delivers them later, with retries and backoff.
"""
from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlparse

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from app.domain.errors import Invalid, NotFound
from app.domain.status import DeliveryStatus, JobStatus
from app.models import Job, ModelVersion, Webhook, WebhookDelivery, utcnow

EVENTS = ("job.succeeded", "job.failed", "alias.moved")
CLAIM_FOR = timedelta(seconds=60)  # a sender that dies mid-delivery frees the row after this


def _iso(value: datetime | None) -> str | None:
    return value.isoformat().replace("+00:00", "Z") if value else None


def create_webhook(session: Session, url: Any, model_name: Any = None, events: Any = None) -> dict[str, Any]:
    """Register a URL; the returned dict holds the signing secret, shown this once."""
    errors: dict[str, str] = {}
    parsed = urlparse(url) if isinstance(url, str) else None
    if parsed is None or parsed.scheme not in ("http", "https") or not parsed.netloc or len(url) > 2000:
        errors["url"] = "required: an http:// or https:// URL of at most 2000 characters"
    if model_name is not None and (not isinstance(model_name, str) or not 0 < len(model_name) <= 128):
        errors["model_name"] = "a model name, or leave it out to hear about every model"
    events = list(EVENTS) if events is None else events
    if not isinstance(events, list) or not events or any(e not in EVENTS for e in events):
        errors["events"] = f"a non-empty list of: {', '.join(EVENTS)}"
    if errors:
        raise Invalid(errors)
    hook = Webhook(url=url, secret=secrets.token_hex(32), model_name=model_name, events=sorted(set(events)),
                   enabled=True, created_at=utcnow())
    session.add(hook)
    session.flush()
    return {**_hook_json(hook), "secret": hook.secret}


def _hook_json(h: Webhook) -> dict[str, Any]:
    return {"id": h.id, "url": h.url, "model_name": h.model_name, "events": list(h.events), "enabled": h.enabled,
            "created_at": _iso(h.created_at)}


def list_webhooks(session: Session) -> list[dict[str, Any]]:
    return [_hook_json(h) for h in session.scalars(select(Webhook).order_by(Webhook.id))]


def delete_webhook(session: Session, hook_id: int) -> None:
    hook = session.get(Webhook, hook_id)
    if hook is None:
        raise NotFound(f"no webhook {hook_id}")
    session.execute(update(WebhookDelivery).where(WebhookDelivery.webhook_id == hook_id,
                                                  WebhookDelivery.status == DeliveryStatus.PENDING)
                    .values(status=DeliveryStatus.FAILED, last_error="webhook deleted")
                    .execution_options(synchronize_session=False))
    hook.enabled = False


def enqueue(session: Session, event: str, model_name: str, data: dict[str, Any]) -> int:
    """Owe ``event`` to every enabled webhook of this model or of all models; returns how many."""
    hooks = session.scalars(select(Webhook).where(Webhook.enabled.is_(True), or_(
        Webhook.model_name.is_(None), Webhook.model_name == model_name))).all()
    now = utcnow()
    rows = [WebhookDelivery(webhook_id=h.id, event=event, status=DeliveryStatus.PENDING, attempts=0,
                            next_attempt_at=now, created_at=now,
                            payload={"event": event, "at": _iso(now), "data": data})
            for h in hooks if event in h.events]
    session.add_all(rows)
    return len(rows)


def job_ended(session: Session, job_id: str) -> int:
    """Announce a job that just succeeded or failed (call in the transaction that ended it)."""
    job = session.get(Job, job_id, populate_existing=True)
    if job is None or job.status not in (JobStatus.SUCCEEDED, JobStatus.FAILED):
        return 0
    version = session.scalar(select(ModelVersion.version).where(ModelVersion.job_id == job_id))
    return enqueue(session, f"job.{job.status}", job.model_name, {
        "job_id": job.id, "status": job.status, "kind": job.kind, "model_name": job.model_name,
        "version": version, "queue": job.queue, "attempt": job.attempt, "error": (job.error or "")[:2000] or None,
        "metrics": {k: v for k, v in (job.metrics or {}).items() if isinstance(v, int | float)}})


@dataclass(frozen=True)
class Due:
    id: int
    url: str
    secret: str
    event: str
    payload: dict[str, Any]
    attempts: int


def claim_due(session: Session, now: datetime, limit: int = 50) -> list[Due]:
    """Pending deliveries whose time has come, each claimed (pushed CLAIM_FOR ahead) for this sender."""
    rows = session.execute(select(WebhookDelivery, Webhook).join(Webhook, Webhook.id == WebhookDelivery.webhook_id)
                           .where(WebhookDelivery.status == DeliveryStatus.PENDING,
                                  WebhookDelivery.next_attempt_at <= now)
                           .order_by(WebhookDelivery.next_attempt_at).limit(limit)).all()
    claimed = []
    for d, hook in rows:
        won = session.execute(update(WebhookDelivery).where(WebhookDelivery.id == d.id,
                                                            WebhookDelivery.status == DeliveryStatus.PENDING,
                                                            WebhookDelivery.next_attempt_at == d.next_attempt_at)
                              .values(next_attempt_at=now + CLAIM_FOR).execution_options(synchronize_session=False))
        if won.rowcount == 1:
            claimed.append(Due(d.id, hook.url, hook.secret, d.event, dict(d.payload), d.attempts))
    return claimed


def record_attempt(session: Session, delivery_id: int, *, ok: bool, status_code: int | None, error: str | None,
                   now: datetime, max_attempts: int, backoff_s: float) -> str:
    """Log one attempt; schedule the next (backoff doubling each time) or give up. Returns the new status."""
    d = session.get(WebhookDelivery, delivery_id)
    if d is None:
        return "gone"
    d.attempts += 1
    d.last_status_code, d.last_error = status_code, (error or None) and error[:2000]
    if ok:
        d.status, d.delivered_at = DeliveryStatus.DELIVERED, now
    elif d.attempts >= max_attempts:
        d.status = DeliveryStatus.FAILED
    else:
        d.next_attempt_at = now + timedelta(seconds=min(backoff_s * 2 ** (d.attempts - 1), 3600))
    return d.status


def deliveries(session: Session, webhook_id: int | None = None, limit: int = 100) -> list[dict[str, Any]]:
    """The delivery log, newest first."""
    query = select(WebhookDelivery, Webhook.url).join(Webhook, Webhook.id == WebhookDelivery.webhook_id)
    if webhook_id is not None:
        query = query.where(WebhookDelivery.webhook_id == webhook_id)
    rows = session.execute(query.order_by(WebhookDelivery.id.desc()).limit(limit)).all()
    return [{"id": d.id, "webhook_id": d.webhook_id, "url": url, "event": d.event, "status": d.status,
             "attempts": d.attempts, "last_status_code": d.last_status_code, "last_error": d.last_error,
             "created_at": _iso(d.created_at), "delivered_at": _iso(d.delivered_at),
             "next_attempt_at": _iso(d.next_attempt_at) if d.status == DeliveryStatus.PENDING else None,
             "payload": d.payload} for d, url in rows]

