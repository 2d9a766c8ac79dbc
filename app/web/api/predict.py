"""POST /api/v1/models/<name>/predict: the model as a service."""
from __future__ import annotations

import time

from flask import jsonify, request

from app.domain.errors import Conflict
from app.kinds import KINDS, Input
from app.services import registry
from app.web.api import bp
from app.web.api.parse import int_arg, json_object
from app.web.http import runtime
from app.web.metrics import observe_predict
from app.web.serving.inputs import parse_instances
from app.web.serving.predictor import predict, words_answer


@bp.post("/models/<name>/predict")
def predict_endpoint(name: str):
    """{"instances": [...]} -> predictions from the ``production`` version (``?alias=``, ``?version=``).

    A kind that takes words (``Input.WORDS``) answers {"most_similar": [words], "topn": n}
    and {"vectors": [words]} instead.
    The alias is read from the database on every call, so a promotion or rollback is served at once.
    """
    body = json_object()
    version = int_arg("version", 0) or None
    with runtime().session() as session:
        target = registry.serving_target(session, name, request.args.get("alias"), version)
    v = target.version
    spec = KINDS.get(v.kind)
    if spec is None or spec.input is None:
        raise Conflict(f"{name} v{v.version} is a {v.kind} model, which this server cannot serve")
    limit = runtime().settings.max_predict_instances
    started = time.perf_counter()
    artifact = v.artifact(spec.input.artifact)
    if artifact is None:
        raise Conflict(f"{name} v{v.version} has no {spec.input.artifact} artifact")
    if spec.input is Input.WORDS:
        kv = runtime().models.get(runtime().store, artifact.path, artifact.sha256, loader="vectors")
        return jsonify({"model_name": name, "version": v.version, "answered_by": target.answered_by,
                        **words_answer(kv, body, limit),
                        "elapsed_ms": round((time.perf_counter() - started) * 1000, 2)})
    x = parse_instances(spec.input, target.dataset_schema, body.get("instances"), limit)
    model = runtime().models.get(runtime().store, artifact.path, artifact.sha256)
    predictions = predict(model, x, v.metrics.get("class_names") or
                          target.dataset_schema.get("label", {}).get("classes", []))
    elapsed = time.perf_counter() - started
    observe_predict(name, elapsed)
    return jsonify({"model_name": name, "version": v.version, "answered_by": target.answered_by,
                    "predictions": predictions, "elapsed_ms": round(elapsed * 1000, 2)})
