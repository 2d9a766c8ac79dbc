"""The component schemas of the OpenAPI description (app/web/api/openapi.py): jobs, datasets, versions,
aliases, schedules and kinds, each written once and referred to by name from the operations.
"""
from __future__ import annotations

from typing import Any

from app.domain.status import JobStatus, SweepStatus
from app.kinds import KINDS, Input, kinds_taking

S = dict[str, Any]
NULLABLE_STR: S = {"type": ["string", "null"]}
STRINGS: S = {"type": "array", "items": {"type": "string"}}


def ref(name: str) -> S:
    return {"$ref": f"#/components/schemas/{name}"}


def schemas() -> S:
    """The components' schemas: the shapes the operations of app/web/api/openapi.py send and take."""
    obj = {"type": "object"}
    return {
        "Error": {"type": "object", "required": ["error", "message"],
                  "properties": {"error": {"type": "string"}, "message": {"type": "string"},
                                 "fields": {"type": "object", "additionalProperties": {"type": "string"}},
                                 # a cancel that came too late: the version that was registered first
                                 "version": {"type": "integer"}, "model_name": {"type": "string"}}},
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
                    "outputs": {"type": "array", "items": ref("Artifact")}}},
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
                                   "artifacts": {"type": "array", "items": ref("Artifact")},
                                   "parent": {"type": ["object", "null"]}, "children": {"type": "array"},
                                   "archived_at": NULLABLE_STR}},
        "Aliases": {"type": "object", "required": ["aliases", "history"],
                    "properties": {"aliases": {"type": "object", "additionalProperties": {"type": "integer"}},
                                   "history": {"type": "array", "items": obj}}},
        "AliasTarget": {"type": "object", "required": ["model_name", "alias", "version", "version_url"],
                        "properties": {"model_name": {"type": "string"}, "alias": {"type": "string"},
                                       "version": {"type": "integer"}, "version_url": {"type": "string"}}},
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
        "Sweep": {"type": "object", "required": ["id", "model_name", "kind", "status", "strategy", "metric", "budget",
                                                 "url"],
                  "properties": {"id": {"type": "integer"}, "model_name": {"type": "string"},
                                 "kind": {"type": "string"}, "dataset": {"type": "string"},
                                 "queue": {"type": "string"}, "space": obj, "metric": {"type": "string"},
                                 "direction": {"enum": ["maximize", "minimize"]},
                                 "strategy": {"enum": ["grid", "random", "asha", "hyperband"]},
                                 "status": {"enum": [str(s) for s in SweepStatus]},
                                 "detail": NULLABLE_STR, "budget": obj, "seed": {"type": "integer"},
                                 "trials_model_name": {"type": "string"},
                                 "registered_version": {"type": ["integer", "null"]},
                                 "best_trial": {"type": ["integer", "null"]},
                                 "best_value": {"type": ["number", "null"]},
                                 "best_so_far": {"type": "array", "items": obj},
                                 "epochs_spent": {"type": "integer"}, "epochs_saved": {"type": "integer"},
                                 "stopped_early": {"type": "integer"}, "trials_started": {"type": "integer"},
                                 "trials": {"type": "array", "items": obj}, "created_by": NULLABLE_STR,
                                 "url": {"type": "string"}}},
        "SweepInput": {
            "type": "object",
            "description": "kind, dataset, model_name, queue?, space (per parameter: a value, a list of values, or "
                           "{min, max, scale: linear|log}), metric (one the kind reports at each epoch), direction "
                           "(maximize|minimize), strategy (grid|random|asha|hyperband), seed, budget {trials, "
                           "parallel, epochs, wall_time_s?, min_epochs?, reduction_factor?}",
            "properties": {"kind": {"type": "string"}, "dataset": {"type": "string"},
                           "model_name": {"type": "string"}, "space": obj, "metric": {"type": "string"},
                           "direction": {"type": "string"}, "strategy": {"type": "string"}, "budget": obj}},
        "Kind": {"type": "object", "required": ["name", "title", "data_kinds", "input", "stages", "params"],
                 "properties": {"name": {"type": "string"}, "title": {"type": "string"},
                                "input": {"enum": [*map(str, Input), None]},
                                "data_kinds": STRINGS, "stages": STRINGS,
                                "params": {"type": "array", "items": obj}, "epoch_metrics": STRINGS,
                                "package": {"type": "string"}, "version": {"type": "string"}}},
    }


UPLOAD_OPTION_MEANINGS: dict[str, tuple[S, str]] = {  # each option of app/data/uploads.py, with its meaning
    "label_column": ({"type": "string"}, "the column holding each row's class (default `label`)"),
    "text_column": ({"type": "string"}, "the column holding the text (default `text`)"),
    "delimiter": ({"type": "string"}, "`,`, `;`, tab or `|` (or comma, semicolon, tab, pipe); detected when left "
                                      "out"),
    "encoding": ({"type": "string"}, "the file's text encoding (default `utf-8`; `auto`, `latin-1`, `cp1252`, ...)"),
    "decimal": ({"enum": [".", ",", "point", "comma"]}, "the decimal separator of numbers (default `.`; `,` is "
                                                        "detected in files not delimited by `,`)"),
    "format": ({"enum": ["csv", "parquet", "jsonl", "fasttext"]},
               "the file's format, detected from its content when left out: tabular `csv`, `parquet` or `jsonl` "
               "(JSON Lines); text `csv`, `fasttext` or `jsonl`"),
    "purpose": ({"enum": ["training", "scoring"]}, "`training` (default: every row checked, labels required) or "
                                                   "`scoring` (a file for batch inference)"),
    "key_column": ({"type": "string"}, "with purpose=scoring: a column copied to each prediction to identify it"),
}


def upload_options() -> dict[str, S]:
    """Each upload option as a schema with its type, its meaning and the dataset kinds that take it."""
    from app.data.uploads import UPLOAD_OPTIONS

    out: dict[str, S] = {}
    for name, (schema, meaning) in UPLOAD_OPTION_MEANINGS.items():
        kinds = ", ".join(kind for kind, names in UPLOAD_OPTIONS.items() if name in names)
        out[name] = {**schema, "description": f"{meaning} (kinds: {kinds})"}
    return out
