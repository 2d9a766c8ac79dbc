"""The beat process's webhook sender: deliver owed webhooks every WEBHOOK_POLL_S, in its own thread.

Separate from the reconciler so a slow receiver never delays taking back lost jobs. Two
beats by mistake are harmless: each delivery is claimed with a conditional UPDATE first.
"""
from __future__ import annotations

from celery import Celery

from app.services.usecases.deliver import deliver_webhooks
from workers.beat.reconciler import Loop
from workers.beat.webhook_sender import send


def webhook_sender(celery: Celery) -> Loop:
    return Loop(celery, "webhooks", lambda rt: {k: v for k, v in deliver_webhooks(rt, send=send).items() if v},
                lambda s: s.webhook_poll_s)
