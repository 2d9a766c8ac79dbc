"""The public trainer contract for a hand-written loop (no Keras fit): progress, per-epoch metrics,
checkpoints of numpy arrays that a later attempt resumes from, stops, artifacts and the job log."""
from __future__ import annotations

import json
import logging

import numpy as np
import pytest

from app.data.builtin import BUILTINS, load_builtin
from app.storage import LocalStore
from trainyard.training import Cancelled, TrainContext
from workers.jobs.checkpoints import Checkpoints


def softmax_regression(ctx: TrainContext) -> None:
    """A tiny numpy trainer written against the public context only."""
    split = ctx.split()
    x = (split.x_train - split.x_train.mean(0)) / (split.x_train.std(0) + 1e-9)
    classes = len(ctx.data.class_names)
    restored = ctx.restore()
    w = restored.arrays()["w"] if restored else np.zeros((x.shape[1], classes))
    start = restored.epoch if restored else 0
    for epoch in range(start, ctx.params["epochs"]):
        for step in range(4):
            ctx.step(epoch, step / 4)
            p = np.exp(x @ w)
            p /= p.sum(1, keepdims=True)
            w -= 0.5 * x.T @ (p - np.eye(classes)[split.y_train]) / len(x)
        loss = float(-np.log(p[np.arange(len(x)), split.y_train] + 1e-9).mean())
        ctx.report(epoch + 1, {"loss": loss}, checkpoint={"w": w})
    ctx.log.info("trained %d epochs", ctx.params["epochs"])
    ctx.add_metrics(resumed_from_epoch=start if restored else None, final_loss=loss)
    ctx.add_artifact("weights.json", json.dumps(w.tolist()))


@pytest.fixture
def iris():
    return load_builtin(BUILTINS["iris"].source)


def _ctx(tmp_path, iris, store, attempt, progress, log=None):
    checkpoints = Checkpoints(store, "job-1", attempt, lambda: True)
    work = tmp_path / f"a{attempt}"
    work.mkdir()
    return TrainContext({"epochs": 6, "seed": 1, "validation_split": 0.1}, iris, work, progress,
                        checkpoints=checkpoints, log=log)


def test_a_hand_written_loop_reports_checkpoints_and_resumes(tmp_path, iris, caplog):
    store = LocalStore(tmp_path / "store")
    store.root.mkdir(parents=True)
    seen = []

    def cancel_at_epoch_3(p):
        seen.append(p)
        if p.epoch == 3 and not p.epoch_end:
            raise Cancelled("stop here")

    first = _ctx(tmp_path, iris, store, 1, cancel_at_epoch_3)
    with pytest.raises(Cancelled):
        softmax_regression(first)
    ends = [p for p in seen if p.epoch_end]
    assert [p.epoch for p in ends] == [1, 2, 3] and all("loss" in p.metrics for p in ends)
    assert 0 < seen[1].fraction < seen[-1].fraction <= 0.5 + 1e-9

    logger = logging.getLogger("test.kind.log")
    second = _ctx(tmp_path, iris, store, 2, lambda p: None, log=logger)
    with caplog.at_level(logging.INFO, logger="test.kind.log"):
        softmax_regression(second)
    result = second.result()
    assert result.metrics["resumed_from_epoch"] == 3  # from attempt 1's checkpoint, not from zero
    assert second.history["loss"][:3] == [p.metrics["loss"] for p in ends]  # history came back too
    assert len(second.history["loss"]) == 6 and second.history["loss"][-1] < second.history["loss"][0]
    assert {f.name for f in result.files} == {"weights.json", "metrics.json", "history.csv"}
    assert json.loads((second.workdir / "metrics.json").read_text())["final_loss"] == result.metrics["final_loss"]
    assert "trained 6 epochs" in caplog.text


def test_add_artifact_copies_outside_files_in_and_a_same_name_replaces(tmp_path, iris):
    ctx = TrainContext({"seed": 1, "validation_split": 0.1}, iris, tmp_path / "work")
    ctx.workdir.mkdir()
    outside = tmp_path / "notes.txt"
    outside.write_text("one")
    kept = ctx.add_artifact(outside)
    assert kept.parent == ctx.workdir and kept.read_text() == "one"
    ctx.add_artifact("notes.txt", "two")
    assert [f.name for f in ctx.files] == ["notes.txt"] and (ctx.workdir / "notes.txt").read_text() == "two"


def test_early_stopping_goes_on_counting_across_a_resume():
    """Restored history: best val_loss 3 epochs ago, patience 3 -> the first resumed epoch that does not
    beat it stops the run. A fresh EarlyStopping would have granted 3 more epochs."""
    import keras

    from workers.trainers.keras_progress import ResumedEarlyStopping

    keras.utils.set_random_seed(0)
    x = np.random.default_rng(0).normal(size=(64, 4)).astype("float32")
    y = (x[:, 0] > 0).astype("int64")
    prior = {"val_loss": [0.001, 0.5, 0.6, 0.7]}  # unbeatable, and 3 epochs old

    def epochs_run(callback) -> int:
        model = keras.Sequential([keras.Input(shape=(4,)), keras.layers.Dense(2, activation="softmax")])
        model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
        history = model.fit(x, y, validation_data=(x, y), initial_epoch=4, epochs=20, verbose=0,
                            callbacks=[callback])
        return len(history.history["loss"])

    assert epochs_run(ResumedEarlyStopping(prior, monitor="val_loss", patience=3)) == 1
    assert epochs_run(keras.callbacks.EarlyStopping(monitor="val_loss", patience=3)) >= 3


def test_a_word2vec_job_resumes_from_its_array_checkpoint(tmp_path):
    """Stopped after epoch 3, the next attempt puts the vectors back (arrays, no pickle) and trains epochs
    4-6 only, on the learning-rate schedule the uninterrupted run follows."""
    from app.kinds import KINDS
    from workers.trainers.word2vec import train

    params, _ = KINDS["word2vec"].validate({"epochs": 6, "vector_size": 16})
    corpus = load_builtin(BUILTINS["lee_background"].source)
    store = LocalStore(tmp_path / "store")
    store.root.mkdir(parents=True)

    def stop_after_3(p):
        if p.epoch_end and p.epoch == 3:
            raise Cancelled("stop here")

    def run(attempt, progress):
        work = tmp_path / f"a{attempt}"
        work.mkdir()
        ctx = TrainContext(params, corpus, work, progress, checkpoints=Checkpoints(store, "w2v", attempt,
                                                                                      lambda: True))
        train(ctx)
        return ctx

    with pytest.raises(Cancelled):
        run(1, stop_after_3)
    resumed = run(2, lambda p: None).result()
    fresh = TrainContext(params, corpus, tmp_path / "fresh")
    fresh.workdir.mkdir()
    train(fresh)
    assert resumed.metrics["resumed_from_epoch"] == 3 and fresh.result().metrics["resumed_from_epoch"] is None
    history = json.loads((tmp_path / "a2" / "metrics.json").read_text())
    assert history["epochs_run"] == 6 and {f.name for f in resumed.files} >= {"vectors.txt", "word2vec.model"}
    # Epochs 1-3 came back from the checkpoint unchanged; 4-6 trained on where the schedule was.
    losses = (tmp_path / "a2" / "history.csv").read_text().splitlines()[1:]
    assert len(losses) == 6  # history.csv keeps 6 significant digits
    assert fresh.history["loss"][:3] == pytest.approx([float(x.split(",")[1]) for x in losses[:3]], rel=1e-5)
