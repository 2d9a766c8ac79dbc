"""/api/v1/webhooks: register URLs told about job and alias events, and read the delivery log."""
from __future__ import annotations

from flask import jsonify

from app.services import webhooks
from app.web.api import bp
from app.web.api.parse import int_arg, json_object
from app.web.http import runtime


@bp.post("/webhooks")
def create_webhook():
    """{"url", "model_name" (optional: all models), "events" (optional: all)}; 201 with the secret, shown once."""
    body = json_object()
    with runtime().session() as session:
        hook = webhooks.create_webhook(session, body.get("url"), body.get("model_name"), body.get("events"))
    return jsonify(hook), 201


@bp.get("/webhooks")
def list_webhooks():
    with runtime().session() as session:
        return jsonify({"items": webhooks.list_webhooks(session), "events": list(webhooks.EVENTS)})


@bp.delete("/webhooks/<int:hook_id>")
def delete_webhook(hook_id: int):
    """Disable a webhook; deliveries still owed to it are dropped (logged as failed)."""
    with runtime().session() as session:
        webhooks.delete_webhook(session, hook_id)
    return "", 204


@bp.get("/webhooks/deliveries")
def webhook_deliveries():
    """The delivery log, newest first; ``?webhook=<id>``, ``?limit=`` (1-500)."""
    hook = int_arg("webhook", 0) or None
    with runtime().session() as session:
        items = webhooks.deliveries(session, hook,
                                    limit=min(max(int_arg("limit", 100), 1), 500))
    return jsonify({"items": items})
