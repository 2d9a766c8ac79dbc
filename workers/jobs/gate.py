"""Measure the champion on the challenger's held-out test rows, for a scheduled job's gate.

A recorded metric is reused only when the champion was trained on the very same data
(same sha256, hence the same fixed test rows); otherwise the champion's model.keras is
loaded (checksum verified, safe mode) and evaluated on this job's test rows. The champion and
the metric come with the claim: nothing here reads the database.
"""
from __future__ import annotations

import logging

import numpy as np

from app.data.split import split_indices
from app.services.gate import Measured
from app.services.usecases.claim import Claim
from app.storage import ArtifactStore

log = logging.getLogger(__name__)


def measure_champion(store: ArtifactStore, claim: Claim, data) -> Measured | None:
    """The champion the claim named, measured on this job's test rows (None: not a scheduled run)."""
    if claim.champion is None:
        return None
    metric, champion = claim.champion.metric, claim.champion.version
    if champion is None:
        return Measured(None, None, "none", metric)
    holder_id, job = claim.champion.version_id, claim.job
    recorded = champion.metrics.get(metric)
    recorded = float(recorded) if isinstance(recorded, int | float) else None
    if champion.dataset_sha256 == job.dataset_sha256:
        return Measured(holder_id, recorded, "recorded (same data, same test rows)", metric)
    artifact = champion.artifact("model.keras")
    if artifact is None:  # word vectors: their scores use fixed benchmark files, not the dataset's rows
        return Measured(holder_id, recorded, "recorded (the metric does not depend on the dataset)", metric)
    classes = champion.metrics.get("class_names")
    if classes is not None and list(classes) != list(getattr(data, "class_names", classes)):
        return Measured(holder_id, None, "the champion predicts other classes than the new data has", metric)
    path = store.verified(artifact.path, artifact.sha256)  # a tampered champion fails the job, audited
    try:
        import keras

        from workers.trainers.evaluate import classification_metrics

        model = keras.models.load_model(path, safe_mode=True)
        x_test, y_test = test_rows(data)
        value = classification_metrics(model, x_test, y_test, list(data.class_names)).get(metric)
    except Exception as exc:  # e.g. the newest data has other features: keep the champion, keep this version
        log.warning("gate: champion v%d could not be evaluated on the new data", champion.version, exc_info=True)
        return Measured(holder_id, None, f"the champion could not be evaluated on the new data: "
                                         f"{type(exc).__name__}: {str(exc)[:200]}", metric)
    log.info("gate: champion v%d re-evaluated on the new test rows: %s=%s", champion.version, metric, value)
    return Measured(holder_id, float(value) if value is not None else None, "re-evaluated on the new test rows",
                    metric)


def test_rows(data):
    """(x, y) of the fixed held-out rows, shaped as the saved models take them."""
    test = split_indices(data.y, seed=0, validation_fraction=0.0).test
    if hasattr(data, "texts"):
        import tensorflow as tf

        return tf.constant([[data.texts[i]] for i in test], dtype=tf.string), data.y[test]
    return np.asarray(data.X)[test], data.y[test]
