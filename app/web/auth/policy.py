"""Who may do what: ONE table, endpoint -> the least role that may call it.

Every endpoint of the app must have an entry: a request to one without is refused (403) and
tests/auth/test_route_walk.py fails naming it. Adding a route = adding one line here.
Ownership rules finer than a role (a member cancels only their own jobs) live in the handler.
"""
from __future__ import annotations

PUBLIC = "public"  # no account needed
VIEWER, MEMBER, ADMIN = "viewer", "member", "admin"

POLICY: dict[str, str] = {
    # static files, sign-in and the load balancer's health check
    "static": PUBLIC,
    "auth.login_form": PUBLIC,
    "auth.login": PUBLIC,
    "auth.logout": PUBLIC,
    "api.health": PUBLIC,
    # the JSON API
    "api.openapi": VIEWER,
    "api.queues": VIEWER,
    "api.list_kinds": VIEWER,
    "api.list_datasets": VIEWER,
    "api.upload_dataset": MEMBER,
    "api.dataset_versions": VIEWER,
    "api.get_dataset": VIEWER,
    "api.preview_dataset": VIEWER,
    "api.submit_job": MEMBER,
    "api.get_job": VIEWER,
    "api.list_jobs": VIEWER,
    "api.job_events": VIEWER,
    "api.cancel_job": MEMBER,  # members: their own jobs only (checked in the handler)
    "api.list_models": VIEWER,
    "api.list_versions": VIEWER,
    "api.get_version": VIEWER,
    "api.download_artifact": VIEWER,
    "api.archive_version": ADMIN,
    "api.get_aliases": VIEWER,
    "api.get_alias": VIEWER,
    "api.promote": ADMIN,
    "api.rollback": ADMIN,
    "api.predict_endpoint": VIEWER,
    "api.whoami": VIEWER,
    "api.download_output": VIEWER,
    "api.list_workers": VIEWER,
    # webhooks POST to any URL they are given, and their log shows those URLs: admins only
    "api.create_webhook": ADMIN,
    "api.list_webhooks": ADMIN,
    "api.delete_webhook": ADMIN,
    "api.webhook_deliveries": ADMIN,
    # Prometheus sends a viewer's token (authorization: credentials in the scrape config)
    "metrics.metrics": VIEWER,
    "api.list_schedules": VIEWER,
    "api.get_schedule": VIEWER,
    "api.preview_schedule": VIEWER,
    "api.create_schedule": ADMIN,
    "api.update_schedule": ADMIN,
    "api.pause_schedule": ADMIN,
    "api.resume_schedule": ADMIN,
    "api.delete_schedule": ADMIN,
    "api.list_sweeps": VIEWER,
    "api.get_sweep": VIEWER,
    "api.create_sweep": MEMBER,
    "api.pause_sweep": MEMBER,  # members: their own sweeps only (checked in the use-case)
    "api.resume_sweep": MEMBER,
    "api.cancel_sweep": MEMBER,
    "api.register_sweep_best": MEMBER,
    # the dashboard
    "web.index": VIEWER,
    "web.new_job": MEMBER,
    "web.submit_job": MEMBER,
    "web.job_detail": VIEWER,
    "web.cancel_job": MEMBER,  # members: their own jobs only (checked in the handler)
    "web.workers_page": VIEWER,
    "web.models": VIEWER,
    "web.model_detail": VIEWER,
    "web.promote": ADMIN,
    "web.rollback": ADMIN,
    "web.compare": VIEWER,
    "web.version_detail": VIEWER,
    "web.download_artifact": VIEWER,
    "web.dataset_list": VIEWER,
    "web.upload_dataset": MEMBER,
    "web.dataset_detail": VIEWER,
    "web.webhooks_page": ADMIN,
    "web.new_batch_job": MEMBER,
    "web.submit_batch_job": MEMBER,
    "web.schedule_list": VIEWER,
    "web.schedule_detail": VIEWER,
    "web.create_schedule": ADMIN,
    "web.edit_schedule": ADMIN,
    "web.pause_schedule": ADMIN,
    "web.resume_schedule": ADMIN,
    "web.delete_schedule": ADMIN,
    "web.sweep_list": VIEWER,
    "web.sweep_detail": VIEWER,
    "web.new_sweep": MEMBER,
    "web.create_sweep": MEMBER,
    "web.sweep_action": MEMBER,  # members: their own sweeps only (checked in the use-case)
    "web.register_sweep_best": MEMBER,
    # accounts: everyone manages their own tokens; admins manage users and read the audit log
    "auth.account": VIEWER,
    "auth.create_token": VIEWER,
    "auth.revoke_token": VIEWER,  # owner or admin (checked in the service)
    "auth.users": ADMIN,
    "auth.create_user": ADMIN,
    "auth.update_user": ADMIN,
    "auth.audit_page": ADMIN,
}

# Successful calls of these endpoints are written to the audit log (app/web/auth/guard.py), as this action.
AUDITED: dict[str, str] = {
    "api.submit_job": "job.submit", "web.submit_job": "job.submit", "web.submit_batch_job": "job.submit",
    "api.create_schedule": "schedule.create", "web.create_schedule": "schedule.create",
    "api.update_schedule": "schedule.update", "web.edit_schedule": "schedule.update",
    "api.pause_schedule": "schedule.pause", "api.resume_schedule": "schedule.resume",
    "web.pause_schedule": "schedule.pause", "web.resume_schedule": "schedule.resume",
    "api.delete_schedule": "schedule.delete", "web.delete_schedule": "schedule.delete",
    "api.cancel_job": "job.cancel", "web.cancel_job": "job.cancel",
    "api.create_sweep": "sweep.create", "web.create_sweep": "sweep.create",
    "api.pause_sweep": "sweep.pause", "api.resume_sweep": "sweep.resume", "api.cancel_sweep": "sweep.cancel",
    "web.sweep_action": "sweep.action", "api.register_sweep_best": "sweep.register_best",
    "web.register_sweep_best": "sweep.register_best",
    "api.upload_dataset": "dataset.upload", "web.upload_dataset": "dataset.upload",
    "api.archive_version": "version.archive",
    "api.create_webhook": "webhook.create", "api.delete_webhook": "webhook.delete",
    "api.promote": "alias.promote", "web.promote": "alias.promote",
    "api.rollback": "alias.rollback", "web.rollback": "alias.rollback",
    "auth.revoke_token": "token.revoke",
    "auth.create_user": "user.create", "auth.update_user": "user.update",
}


def required_role(endpoint: str) -> str | None:
    """The least role for ``endpoint``; None when the table has no entry (callers refuse)."""
    return POLICY.get(endpoint)
