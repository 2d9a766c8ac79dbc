"""GET /api/v1/openapi.json: the OpenAPI 3.1 description of this API, written by hand.

Kept honest by tests/api/test_openapi.py: schemathesis calls every operation with generated
requests and fails on a 5xx or on a response that does not match what is written here, and a
test checks every /api/v1 route of the app is described. The links between operations (which
response feeds which request) are in app/web/api/openapi_links.py.
"""
from __future__ import annotations

from flask import jsonify

from app.kinds import Input, kinds_taking
from app.web.api import bp
from app.web.api.openapi_links import add_links
from app.web.api.openapi_schemas import NULLABLE_STR, STRINGS, S, ref, schemas, upload_options


def _json(schema: S, description: str = "OK") -> S:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _items(schema: S, **extra: S) -> S:
    return {"type": "object", "required": ["items"],
            "properties": {"items": {"type": "array", "items": schema}, **extra}}


ERROR = _json(ref("Error"), "An error: what went wrong, and per field where the input was at fault")
ERRORS: S = {code: ERROR for code in ("400", "401", "403", "404", "409", "413", "422", "429", "503")}
ERRORS["default"] = ERROR


def _op(summary: str, ok: dict[str, S], *, params: list[S] | None = None, body: S | None = None,
        public: bool = False) -> S:
    op: S = {"summary": summary, "responses": {**ok, **ERRORS}}
    if params:
        op["parameters"] = params
    if body:
        op["requestBody"] = body
    if public:
        op["security"] = []
    return op


def _path(name: str, schema: S | None = None) -> S:
    return {"name": name, "in": "path", "required": True, "schema": schema or {"type": "string"}}


def _query(name: str, schema: S) -> S:
    return {"name": name, "in": "query", "required": False, "schema": schema}


NAME = _path("name")
VERSION = _path("version", {"type": "integer", "minimum": 0})
JOB_ID = _path("job_id")
SCHEDULE_ID = _path("schedule_id", {"type": "integer", "minimum": 0})
SWEEP_ID = _path("sweep_id", {"type": "integer", "minimum": 0})
ALIAS = _path("alias")
# A file as stored, in its own media type (a JSON artifact is JSON): OpenAPI 3.1 describes raw bytes by no schema.
FILE: S = {"description": "The file", "content": {"*/*": {}}}
JSON_BODY = {"required": True, "content": {"application/json": {"schema": {"type": "object"}}}}


def document() -> S:
    """The whole description (built per request: cheap, and always in step with the kinds registry)."""
    obj = {"type": "object"}
    upload_body = {"required": True, "content": {
        "multipart/form-data": {"schema": {"type": "object", "required": ["name", "kind", "file"], "properties": {
            "name": {"type": "string"}, "kind": {"enum": ["tabular", "text", "corpus", "images"]},
            "description": {"type": "string"}, "file": {"type": "string", "format": "binary"},
            **upload_options()}}},
        "application/octet-stream": {"schema": {"type": "string", "format": "binary"}}}}
    paths: S = {
        "/health": {"get": _op("Liveness, the database and Redis (a 503 when the database is down), and the "
                               "workers that are wedged", {"200": _json(
            {"type": "object", "required": ["status", "workers", "dependencies"],
             "properties": {"status": {"enum": ["ok", "degraded"]},
                            "dependencies": {"type": "object", "additionalProperties": {"enum": ["ok", "down"]}},
                            "down": {"type": "array", "items": {"type": "string"}},
                            "workers": {"type": "object", "required": ["wedged"],
                                        "properties": {"wedged": {"type": "integer", "minimum": 0}}}}})},
            public=True)},
        "/me": {"get": _op("The account behind the token", {"200": _json(
            {"type": "object", "required": ["username", "role"],
             "properties": {"username": {"type": "string"}, "role": {"enum": ["viewer", "member", "admin"]}}})})},
        "/openapi.json": {"get": _op("This document", {"200": _json(obj)})},
        "/queues": {"get": _op("Queue depths, running jobs and each queue's last completed job", {"200": _json(
            _items(obj, broker_reachable={"type": "boolean"}))})},
        "/kinds": {"get": _op("Model kinds and their parameter declarations", {"200": _json(_items(ref("Kind")))})},
        "/datasets": {
            "get": _op("Every dataset version", {"200": _json(_items(ref("Dataset")))}),
            "post": _op("Upload a dataset as the next version of its name (member)", {"201": _json(ref("Dataset"))},
                        params=[_query("name", {"type": "string"}), _query("kind", {"type": "string"}),
                                *(_query(n, schema) for n, schema in upload_options().items())],
                        body=upload_body)},
        "/datasets/{name}": {"get": _op("Versions of one dataset", {"200": _json(_items(ref("Dataset")))},
                                        params=[NAME])},
        "/datasets/{name}/versions/{version}": {"get": _op("One dataset version", {"200": _json(ref("Dataset"))},
                                                           params=[NAME, VERSION])},
        "/datasets/{name}/versions/{version}/preview": {"get": _op(
            "The first rows of a dataset version", {"200": _json(
                {"type": "object", "required": ["columns", "rows"],
                 "properties": {"columns": {"type": "array"}, "rows": {"type": "array"}}})},
            params=[NAME, VERSION, _query("rows", {"type": "integer"})])},
        "/jobs": {
            "get": _op("Jobs, newest first", {"200": _json(_items(
                ref("Job"), next_cursor=NULLABLE_STR, next=NULLABLE_STR))},
                params=[_query("status", {"type": "string"}), _query("model", {"type": "string"}),
                        _query("kind", {"type": "string"}), _query("created_by", {"type": "string"}),
                        _query("sort", {"enum": ["newest", "oldest"]}), _query("limit", {"type": "integer"}),
                        _query("cursor", {"type": "string"})]),
            "post": _op("Submit a training or batch-inference job (member)", {
                "201": _json(ref("Job"), "Created"), "200": _json(ref("Job"), "The job first submitted with this "
                                                                                  "Idempotency-Key")},
                params=[{"name": "Idempotency-Key", "in": "header", "required": False,
                         "schema": {"type": "string", "maxLength": 128}}],
                body={"required": True, "content": {"application/json": {"schema": ref("JobSubmission")}}})},
        "/jobs/{job_id}": {"get": _op("One job", {"200": _json(ref("Job"))}, params=[JOB_ID])},
        "/jobs/{job_id}/outputs/{filename}": {"get": _op(
            "Download a batch job's output (predictions.csv, predictions.parquet, errors.csv, summary.json)",
            {"200": FILE,
             "304": {"description": "Not modified (If-None-Match matched the sha256)"}},
            params=[JOB_ID, _path("filename")])},
        "/workers": {"get": _op("Workers (alive first): host, queues, GPUs, current job, last heartbeat, "
                                "job child (starting, ready, wedged)",
                                {"200": _json(_items(obj, last_completed=obj))})},
        "/webhooks": {
            "get": _op("Webhooks (admin)", {"200": _json(_items(obj, events={"type": "array"}))}),
            "post": _op("Register a webhook (admin): {url, model_name?, events?}; the secret is shown once",
                        {"201": _json(obj, "Created")}, body=JSON_BODY)},
        "/webhooks/{hook_id}": {"delete": _op("Disable a webhook (admin)", {"204": {"description": "Disabled"}},
                                              params=[_path("hook_id", {"type": "integer", "minimum": 0})])},
        "/webhooks/deliveries": {"get": _op(
            "The delivery log, newest first (admin)", {"200": _json(_items(obj))},
            params=[_query("webhook", {"type": "integer"}), _query("limit", {"type": "integer"})])},
        "/schedules": {
            "get": _op("Scheduled retrains", {"200": _json(_items(ref("Schedule")))}),
            "post": _op("Create a schedule (admin)", {"201": _json(ref("Schedule"), "Created")},
                        body={"required": True, "content": {"application/json": {"schema": ref("ScheduleInput")}}})},
        "/schedules/preview": {"get": _op(
            "The next five due times of a cron in a time zone", {"200": _json(
                {"type": "object", "required": ["next_runs"],
                 "properties": {"cron": {"type": "string"}, "timezone": {"type": "string"},
                                "next_runs": {"type": "array", "items": {"type": "string"}}}})},
            params=[_query("cron", {"type": "string"}), _query("timezone", {"type": "string"})])},
        "/schedules/{schedule_id}": {
            "get": _op("One schedule with its recent runs", {"200": _json(ref("Schedule"))}, params=[SCHEDULE_ID]),
            "patch": _op("Edit a schedule (admin)", {"200": _json(ref("Schedule"))}, params=[SCHEDULE_ID],
                         body={"required": True, "content": {"application/json": {"schema": ref("ScheduleInput")}}}),
            "delete": _op("Delete a schedule (admin); its jobs and versions stay",
                          {"204": {"description": "Deleted"}}, params=[SCHEDULE_ID])},
        "/schedules/{schedule_id}/pause": {"post": _op("Pause (admin)", {"200": _json(ref("Schedule"))},
                                                       params=[SCHEDULE_ID])},
        "/schedules/{schedule_id}/resume": {"post": _op("Resume from the next due time (admin)",
                                                        {"200": _json(ref("Schedule"))}, params=[SCHEDULE_ID])},
        "/sweeps": {
            "get": _op("Sweeps, newest first (without their trials)", {"200": _json(_items(ref("Sweep")))}),
            "post": _op("Create a sweep; beat starts its trials (422 names each bad field)",
                        {"201": _json(ref("Sweep"), "Created")},
                        body={"required": True, "content": {"application/json": {"schema": ref("SweepInput")}}})},
        "/sweeps/{sweep_id}": {"get": _op("One sweep with its trials, best-so-far curve and epochs saved",
                                          {"200": _json(ref("Sweep"))}, params=[SWEEP_ID])},
        **{f"/sweeps/{{sweep_id}}/{action}": {"post": _op(
            f"{what} (members: their own sweeps; admins: any)", {"200": _json(ref("Sweep"))}, params=[SWEEP_ID])}
           for action, what in (("pause", "Pause: start no new trial"), ("resume", "Resume"),
                                ("cancel", "Cancel: every unfinished trial stops at its next batch"))},
        "/sweeps/{sweep_id}/register": {"post": _op(
            "Register the best completed trial as a version of the sweep's model, with its lineage",
            {"201": _json(obj, "Registered")}, params=[SWEEP_ID])},
        "/jobs/{job_id}/events": {"get": _op("A job's timeline after event id ?after=", {"200": _json(_items(obj))},
                                             params=[JOB_ID, _query("after", {"type": "integer"})])},
        "/jobs/{job_id}/cancel": {"post": _op(
            "Cancel a job (members: their own; admins: any)",
            {"200": _json(ref("Job"), "Cancelled"), "202": _json(ref("Job"), "Running: stops at its next batch")},
            params=[JOB_ID])},
        "/models": {"get": _op("Registered models", {"200": _json(_items(obj))})},
        "/models/{name}/versions": {"get": _op("Versions of a model", {"200": _json(_items(ref("Version")))},
                                               params=[NAME])},
        "/models/{name}/versions/{version}": {"get": _op("One version", {"200": _json(ref("Version"))},
                                                         params=[NAME, VERSION])},
        "/models/{name}/versions/{version}/artifacts/{filename}": {"get": _op(
            "Download an artifact (ETag and Digest carry its sha256)",
            {"200": FILE,
             "304": {"description": "Not modified (If-None-Match matched the sha256)"}},
            params=[NAME, VERSION, _path("filename")])},
        "/models/{name}/versions/{version}/archive": {"post": _op(
            "Archive a version (admin)", {"200": _json(ref("Version"))}, params=[NAME, VERSION])},
        "/models/{name}/aliases": {"get": _op("Aliases and their history", {"200": _json(ref("Aliases"))},
                                              params=[NAME])},
        "/models/{name}/aliases/{alias}": {"get": _op(
            "The version one alias points at now", {"200": _json(ref("AliasTarget"))}, params=[NAME, ALIAS]),
                                           "post": _op(
            "Point an alias at a version (admin)", {"200": _json(obj)}, params=[NAME, ALIAS],
            body={"required": True, "content": {"application/json": {"schema": ref("AliasMove")}}})},
        "/models/{name}/aliases/{alias}/rollback": {"post": _op(
            "Return an alias to where it pointed before its last move (admin)", {"200": _json(obj)},
            params=[NAME, ALIAS], body=JSON_BODY)},
        "/models/{name}/predict": {"post": _op(
            "Predictions from the production version (or ?alias= / ?version=); "
            f"{', '.join(kinds_taking(Input.WORDS))} versions answer most_similar and vectors queries", {"200": _json(
                {"type": "object", "required": ["model_name", "version"],
                 "properties": {"model_name": {"type": "string"}, "version": {"type": "integer"},
                                "answered_by": {"type": "string"}, "predictions": {"type": "array"},
                                "most_similar": obj, "vectors": obj, "elapsed_ms": {"type": "number"}}})},
            params=[NAME, _query("alias", {"type": "string"}), _query("version", {"type": "integer"})],
            body={"required": True, "content": {"application/json": {"schema": {
                "type": "object",
                "properties": {"instances": {"type": "array", "minItems": 1},
                               "most_similar": STRINGS, "vectors": STRINGS,
                               "topn": {"type": "integer"}}}}}})},
    }
    return {
        "openapi": "3.1.0",
        "info": {"title": "Trainyard API", "version": "1",
                 "description": "Send 'Authorization: Bearer <token>' (create one on your account page or with "
                                "`flask --app app trainyard tokens create`). Errors share one shape (Error)."},
        "servers": [{"url": "/api/v1"}],
        "security": [{"bearer": []}],
        "components": {"securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
                       "schemas": schemas()},
        "paths": add_links(paths),
    }


@bp.get("/openapi.json")
def openapi():
    return jsonify(document())
