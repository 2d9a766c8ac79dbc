"""The kind on its own, without the platform: its spec is valid, and it learns the sample set."""
from __future__ import annotations

import numpy as np
import pytest
from trainyard_attention.sample import sentences
from trainyard_attention.spec import SPEC

from trainyard.testing import text_data, train_locally


def test_the_spec_declares_a_text_kind_with_valid_defaults():
    clean, errors = SPEC.validate({})
    assert errors == {} and clean["attention"] == "additive"
    assert SPEC.validate({"attention": "cosine"})[1]


@pytest.mark.parametrize("attention", ["additive", "dot"])
def test_it_learns_the_sample_set_and_predicts_plain_strings(tmp_path, attention):
    import keras
    import tensorflow as tf

    pairs = sentences(450)
    run = train_locally(SPEC, text_data([t for t, _ in pairs], [label for _, label in pairs]),
                        {"epochs": 6, "batch_size": 16, "learning_rate": 0.01, "attention": attention,
                         "sequence_length": 24}, workdir=tmp_path)
    assert run.metrics["test_accuracy"] >= 0.9, run.metrics
    assert {"model.keras", "vocabulary.txt", "metrics.json", "history.csv"} <= set(run.files)
    model = keras.models.load_model(run.files["model.keras"], safe_mode=True)
    texts = tf.constant([["the storm and rain today"], ["a penalty in the match"]], dtype=tf.string)
    probs = np.asarray(model.predict_on_batch(texts))
    classes = sorted({label for _, label in pairs})
    assert [classes[i] for i in probs.argmax(axis=1)] == ["weather", "sport"]
