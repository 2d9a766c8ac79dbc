"""GET /api/v1/openapi.json: the OpenAPI 3.1 description of this API, written by hand.

Kept honest by tests/api/test_openapi.py: schemathesis calls every operation with generated
requests and fails on a 5xx or on a response that does not match what is written here, and a
test checks every /api/v1 route of the app is described.
"""
from __future__ import annotations

from typing import Any

from flask import jsonify

from app.api import bp
from app.domain.status import JobStatus
from app.kinds import KINDS, Input, kinds_taking

S = dict[str, Any]
NULLABLE_STR: S = {"type": ["string", "null"]}
STRINGS: S = {"type": "array", "items": {"type": "string"}}


def _ref(name: str) -> S:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: S, description: str = "OK") -> S:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _items(schema: S, **extra: S) -> S:
    return {"type": "object", "required": ["items"],
            "properties": {"items": {"type": "array", "items": schema}, **extra}}


ERROR = _json(_ref("Error"), "An error: what went wrong, and per field where the input was at fault")
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
ALIAS = _path("alias")
JSON_BODY = {"required": True, "content": {"application/json": {"schema": {"type": "object"}}}}


def _schemas() -> S:
    obj = {"type": "object"}
    return {
        "Error": {"type": "object", "required": ["error", "message"],
                  "properties": {"error": {"type": "string"}, "message": {"type": "string"},
                                 "fields": {"type": "object", "additionalProperties": {"type": "string"}}}},
        "Job": {"type": "object",
                "required": ["id", "type", "kind", "model_name", "dataset", "dataset_version", "params", "status",
                             "queue", "progress", "epoch", "total_epochs", "metrics", "attempt", "url"],
                "properties": {
                    "id": {"type": "string"}, "type": {"enum": ["train", "infer"]}, "kind": {"type": "string"},
                    "model_name": {"type": "string"}, "dataset": {"type": "string"},
                    "dataset_version": {"type": "integer"}, "params": obj,
                    "status": {"enum": [s.value for s in JobStatus]},
                    "queue": {"type": "string"}, "progress": {"type": "number"}, "epoch": {"type": "integer"},
                    "total_epochs": {"type": "integer"}, "metrics": obj, "error": NULLABLE_STR,
                    "attempt": {"type": "integer"}, "worker": NULLABLE_STR, "created_at": NULLABLE_STR,
                    "started_at": NULLABLE_STR, "finished_at": NULLABLE_STR, "heartbeat_at": NULLABLE_STR,
                    "created_by": NULLABLE_STR, "version": {"type": ["integer", "null"]},
                    "depends_on": NULLABLE_STR, "input_version": {"type": ["object", "null"]},
                    "url": {"type": "string"}, "version_url": {"type": "string"},
                    "outputs": {"type": "array", "items": _ref("Artifact")}}},
        "JobSubmission": {
            "type": "object", "required": ["model_name"],
            "description": "type 'train' (default): kind, dataset, model_name, params. type 'infer' (batch "
                           "inference): model_name, version or alias (default production), dataset, params "
                           f"(chunk_rows, key_column; {', '.join(kinds_taking(Input.WORDS))}: mode, topn, words).",
            "properties": {"type": {"enum": ["train", "infer"]}, "kind": {"enum": sorted(KINDS)},
                           "version": {"type": "integer"}, "alias": {"type": "string"},
                           "dataset": {"type": "string", "description": "'name' or 'name:version'"},
                           "model_name": {"type": "string"}, "queue": {"enum": ["cpu", "gpu"]},
                           "params": {"type": "object", "description": "see GET /api/v1/kinds"},
                           "idempotency_key": {"type": "string", "minLength": 1, "maxLength": 128}}},
        "Dataset": {"type": "object",
                    "required": ["id", "name", "version", "kind", "source", "sha256", "size_bytes", "rows", "schema"],
                    "properties": {"id": {"type": "integer"}, "name": {"type": "string"},
                                   "version": {"type": "integer"}, "kind": {"type": "string"},
                                   "source": {"type": "string"}, "sha256": {"type": "string"},
                                   "size_bytes": {"type": "integer"}, "rows": {"type": "integer"}, "schema": obj,
                                   "created_at": NULLABLE_STR, "created_by": NULLABLE_STR,
                                   "description": NULLABLE_STR}},
        "Artifact": {"type": "object", "required": ["name", "size_bytes", "sha256", "content_type", "url"],
                     "properties": {"name": {"type": "string"}, "size_bytes": {"type": "integer"},
                                    "sha256": {"type": "string"}, "content_type": {"type": "string"},
                                    "url": {"type": "string"}}},
        "Version": {"type": "object",
                    "required": ["model_name", "version", "kind", "dataset", "dataset_version", "params", "metrics",
                                 "artifacts"],
                    "properties": {"model_name": {"type": "string"}, "version": {"type": "integer"},
                                   "kind": {"type": "string"}, "job_id": NULLABLE_STR, "dataset": {"type": "string"},
                                   "dataset_version": {"type": "integer"}, "dataset_sha256": {"type": "string"},
                                   "params": obj, "metrics": obj, "framework": obj, "created_at": NULLABLE_STR,
                                   "created_by": NULLABLE_STR,
                                   "artifacts": {"type": "array", "items": _ref("Artifact")},
                                   "parent": {"type": ["object", "null"]}, "children": {"type": "array"},
                                   "archived_at": NULLABLE_STR}},
        "Aliases": {"type": "object", "required": ["aliases", "history"],
                    "properties": {"aliases": {"type": "object", "additionalProperties": {"type": "integer"}},
                                   "history": {"type": "array", "items": obj}}},
        "AliasMove": {"type": "object", "properties": {
            "version": {"type": "integer"}, "reason": {"type": "string"},
            "expected_version": {"type": ["integer", "null"]}}},
        "Schedule": {"type": "object", "required": ["id", "name", "model_name", "kind", "cron", "timezone", "enabled",
                                                    "next_runs", "runs", "url"],
                     "properties": {"id": {"type": "integer"}, "name": {"type": "string"},
                                    "model_name": {"type": "string"}, "kind": {"type": "string"},
                                    "dataset": {"type": "string"}, "dataset_name": {"type": "string"},
                                    "params": obj, "queue": {"type": "string"}, "cron": {"type": "string"},
                                    "timezone": {"type": "string"}, "enabled": {"type": "boolean"},
                                    "metric": {"type": "string"}, "higher_is_better": {"type": "boolean"},
                                    "min_improvement": {"type": "number"}, "alias": {"type": "string"},
                                    "overlap": {"enum": ["skip", "replace"]}, "catchup": {"enum": ["once", "skip"]},
                                    "only_if_data_changed": {"type": "boolean"}, "max_failures": {"type": "integer"},
                                    "consecutive_failures": {"type": "integer"}, "paused_reason": NULLABLE_STR,
                                    "created_by": NULLABLE_STR, "next_due_at": NULLABLE_STR,
                                    "next_runs": {"type": "array", "items": {"type": "string"}},
                                    "runs": {"type": "array", "items": obj}, "url": {"type": "string"}}},
        "ScheduleInput": {
            "type": "object",
            "description": "name, model_name, kind, dataset (a name: its newest version at run time), params, "
                           "cron (5 fields), timezone, metric, higher_is_better, min_improvement, alias, overlap "
                           "(skip|replace), catchup (once|skip), only_if_data_changed, max_failures, enabled",
            "properties": {"name": {"type": "string"}, "model_name": {"type": "string"},
                           "kind": {"type": "string"}, "dataset": {"type": "string"}, "params": obj,
                           "cron": {"type": "string"}, "timezone": {"type": "string"},
                           "enabled": {"type": "boolean"}}},
        "Kind": {"type": "object", "required": ["name", "title", "data_kinds", "input", "stages", "params"],
                 "properties": {"name": {"type": "string"}, "title": {"type": "string"},
                                "input": {"enum": [*map(str, Input), None]},
                                "data_kinds": STRINGS, "stages": STRINGS,
                                "params": {"type": "array", "items": obj}}},
    }


def document() -> S:
    """The whole description (built per request: cheap, and always in step with the kinds registry)."""
    obj = {"type": "object"}
    upload_body = {"required": True, "content": {
        "multipart/form-data": {"schema": {"type": "object", "required": ["name", "kind", "file"], "properties": {
            "name": {"type": "string"}, "kind": {"enum": ["tabular", "text", "corpus", "images"]},
            "description": {"type": "string"}, "file": {"type": "string", "format": "binary"}}}},
        "application/octet-stream": {"schema": {"type": "string", "format": "binary"}}}}
    paths: S = {
        "/health": {"get": _op("Liveness, a database round trip, and the workers that are wedged", {"200": _json(
            {"type": "object", "required": ["status", "workers"],
             "properties": {"status": {"enum": ["ok", "degraded"]},
                            "workers": {"type": "object", "required": ["wedged"],
                                        "properties": {"wedged": {"type": "array", "items": {"type": "string"}}}}}})},
            public=True)},
        "/me": {"get": _op("The account behind the token", {"200": _json(
            {"type": "object", "required": ["username", "role"],
             "properties": {"username": {"type": "string"}, "role": {"enum": ["viewer", "member", "admin"]}}})})},
        "/openapi.json": {"get": _op("This document", {"200": _json(obj)})},
        "/queues": {"get": _op("Queue depths, running jobs and each queue's last completed job", {"200": _json(
            _items(obj, broker_reachable={"type": "boolean"}))})},
        "/kinds": {"get": _op("Model kinds and their parameter declarations", {"200": _json(_items(_ref("Kind")))})},
        "/datasets": {
            "get": _op("Every dataset version", {"200": _json(_items(_ref("Dataset")))}),
            "post": _op("Upload a dataset as the next version of its name (member)", {"201": _json(_ref("Dataset"))},
                        params=[_query("name", {"type": "string"}), _query("kind", {"type": "string"})],
                        body=upload_body)},
        "/datasets/{name}": {"get": _op("Versions of one dataset", {"200": _json(_items(_ref("Dataset")))},
                                        params=[NAME])},
        "/datasets/{name}/versions/{version}": {"get": _op("One dataset version", {"200": _json(_ref("Dataset"))},
                                                           params=[NAME, VERSION])},
        "/datasets/{name}/versions/{version}/preview": {"get": _op(
            "The first rows of a dataset version", {"200": _json(
                {"type": "object", "required": ["columns", "rows"],
                 "properties": {"columns": {"type": "array"}, "rows": {"type": "array"}}})},
            params=[NAME, VERSION, _query("rows", {"type": "integer"})])},
        "/jobs": {
            "get": _op("Jobs, newest first", {"200": _json(_items(
                _ref("Job"), next_cursor=NULLABLE_STR, next=NULLABLE_STR))},
                params=[_query("status", {"type": "string"}), _query("model", {"type": "string"}),
                        _query("kind", {"type": "string"}), _query("created_by", {"type": "string"}),
                        _query("sort", {"enum": ["newest", "oldest"]}), _query("limit", {"type": "integer"}),
                        _query("cursor", {"type": "string"})]),
            "post": _op("Submit a training or batch-inference job (member)", {
                "201": _json(_ref("Job"), "Created"), "200": _json(_ref("Job"), "The job first submitted with this "
                                                                                  "Idempotency-Key")},
                params=[{"name": "Idempotency-Key", "in": "header", "required": False,
                         "schema": {"type": "string", "maxLength": 128}}],
                body={"required": True, "content": {"application/json": {"schema": _ref("JobSubmission")}}})},
        "/jobs/{job_id}": {"get": _op("One job", {"200": _json(_ref("Job"))}, params=[JOB_ID])},
        "/jobs/{job_id}/outputs/{filename}": {"get": _op(
            "Download a batch job's output (predictions.csv, predictions.parquet, errors.csv, summary.json)",
            {"200": {"description": "The file", "content": {"*/*": {"schema": {"type": "string",
                                                                               "format": "binary"}}}},
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
            "get": _op("Scheduled retrains", {"200": _json(_items(_ref("Schedule")))}),
            "post": _op("Create a schedule (admin)", {"201": _json(_ref("Schedule"), "Created")},
                        body={"required": True, "content": {"application/json": {"schema": _ref("ScheduleInput")}}})},
        "/schedules/preview": {"get": _op(
            "The next five due times of a cron in a time zone", {"200": _json(
                {"type": "object", "required": ["next_runs"],
                 "properties": {"cron": {"type": "string"}, "timezone": {"type": "string"},
                                "next_runs": {"type": "array", "items": {"type": "string"}}}})},
            params=[_query("cron", {"type": "string"}), _query("timezone", {"type": "string"})])},
        "/schedules/{schedule_id}": {
            "get": _op("One schedule with its recent runs", {"200": _json(_ref("Schedule"))}, params=[SCHEDULE_ID]),
            "patch": _op("Edit a schedule (admin)", {"200": _json(_ref("Schedule"))}, params=[SCHEDULE_ID],
                         body={"required": True, "content": {"application/json": {"schema": _ref("ScheduleInput")}}}),
            "delete": _op("Delete a schedule (admin); its jobs and versions stay",
                          {"204": {"description": "Deleted"}}, params=[SCHEDULE_ID])},
        "/schedules/{schedule_id}/pause": {"post": _op("Pause (admin)", {"200": _json(_ref("Schedule"))},
                                                       params=[SCHEDULE_ID])},
        "/schedules/{schedule_id}/resume": {"post": _op("Resume from the next due time (admin)",
                                                        {"200": _json(_ref("Schedule"))}, params=[SCHEDULE_ID])},
        "/jobs/{job_id}/events": {"get": _op("A job's timeline after event id ?after=", {"200": _json(_items(obj))},
                                             params=[JOB_ID, _query("after", {"type": "integer"})])},
        "/jobs/{job_id}/cancel": {"post": _op(
            "Cancel a job (members: their own; admins: any)",
            {"200": _json(_ref("Job"), "Cancelled"), "202": _json(_ref("Job"), "Running: stops at its next batch")},
            params=[JOB_ID])},
        "/models": {"get": _op("Registered models", {"200": _json(_items(obj))})},
        "/models/{name}/versions": {"get": _op("Versions of a model", {"200": _json(_items(_ref("Version")))},
                                               params=[NAME])},
        "/models/{name}/versions/{version}": {"get": _op("One version", {"200": _json(_ref("Version"))},
                                                         params=[NAME, VERSION])},
        "/models/{name}/versions/{version}/artifacts/{filename}": {"get": _op(
            "Download an artifact (ETag and Digest carry its sha256)",
            {"200": {"description": "The file", "content": {"*/*": {"schema": {"type": "string",
                                                                               "format": "binary"}}}},
             "304": {"description": "Not modified (If-None-Match matched the sha256)"}},
            params=[NAME, VERSION, _path("filename")])},
        "/models/{name}/versions/{version}/archive": {"post": _op(
            "Archive a version (admin)", {"200": _json(_ref("Version"))}, params=[NAME, VERSION])},
        "/models/{name}/aliases": {"get": _op("Aliases and their history", {"200": _json(_ref("Aliases"))},
                                              params=[NAME])},
        "/models/{name}/aliases/{alias}": {"post": _op(
            "Point an alias at a version (admin)", {"200": _json(obj)}, params=[NAME, ALIAS],
            body={"required": True, "content": {"application/json": {"schema": _ref("AliasMove")}}})},
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
                       "schemas": _schemas()},
        "paths": paths,
    }


@bp.get("/openapi.json")
def openapi():
    return jsonify(document())
