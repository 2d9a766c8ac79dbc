"""Checkpoints by time, not by epoch (CHECKPOINT_EVERY_S): when the interval has run out, after the last
epoch, and before a stop; a clock we drive stands in for time, the store records what was saved."""
from __future__ import annotations

import numpy as np
import pytest

from workers.trainers.base import HandBack, Progress, TimeLimit
from workers.trainers.checkpointing import CheckpointAccess
from workers.trainers.context import TrainContext


class Clock:
    def __init__(self) -> None:
        self.t = 0.0

    def __call__(self) -> float:
        return self.t


class Recorder:
    """Stands in for the runner's checkpoint store: remembers (epoch, step, epochs in history) per save."""

    def __init__(self) -> None:
        self.saves: list[tuple[int, int]] = []
        self.histories: list[int] = []

    def save(self, state, epoch, history, step=0) -> None:
        self.saves.append((epoch, step))
        self.histories.append(len(history.get("loss", [])))

    def latest(self):
        return None


def _ctx(tmp_path, every_s: float, epochs: int, progress=None) -> tuple[TrainContext, Recorder, Clock]:
    clock, store = Clock(), Recorder()
    ctx = TrainContext({"epochs": epochs}, None, tmp_path, progress, checkpoints=store)
    ctx.checkpoint = CheckpointAccess(store, every_s, clock=clock)
    return ctx, store, clock


def test_a_hand_written_loop_checkpoints_when_the_interval_runs_out_and_after_the_last_epoch(tmp_path):
    ctx, store, clock = _ctx(tmp_path, every_s=30, epochs=10)
    for epoch in range(1, 11):
        clock.t += 7  # each epoch takes 7 s
        ctx.report(epoch, {"loss": 1 / epoch}, checkpoint={"w": np.zeros(2)})
    # 35 s > 30 s at epoch 5; the next interval would end at 65 s (epoch 10 at 70 s), which is also the last.
    assert store.saves == [(5, 0), (10, 0)]
    assert store.histories == [5, 10]  # each checkpoint carries the whole history (early stopping resumes from it)


def test_an_interval_of_zero_checkpoints_after_every_epoch(tmp_path):
    ctx, store, clock = _ctx(tmp_path, every_s=0, epochs=4)
    for epoch in range(1, 5):
        clock.t += 100
        ctx.report(epoch, {"loss": 1.0}, checkpoint={"w": np.zeros(2)})
    assert store.saves == [(1, 0), (2, 0), (3, 0), (4, 0)]


@pytest.mark.parametrize("stop", [HandBack, TimeLimit])
def test_a_stop_between_checkpoints_saves_the_epoch_it_interrupts(tmp_path, stop):
    def progress(p: Progress) -> None:
        if p.epoch == 3 and p.epoch_end:
            raise stop("worker shutting down")

    ctx, store, clock = _ctx(tmp_path, every_s=3600, epochs=10, progress=progress)
    with pytest.raises(stop):
        for epoch in range(1, 11):
            clock.t += 1
            ctx.report(epoch, {"loss": 1.0}, checkpoint={"w": np.zeros(2)})
    assert store.saves == [(3, 0)]  # not due by time, but nothing of epochs 1-3 is lost


def test_the_keras_callback_checkpoints_by_time_inside_long_epochs_and_after_the_last(tmp_path):
    from workers.trainers.keras_progress import JobCallback

    clock, store = Clock(), Recorder()
    cb = JobCallback(lambda p: None, total_epochs=5, steps=4, checkpoints=CheckpointAccess(store, 6, clock=clock))
    cb.set_model(object())
    for epoch in range(5):
        cb.on_epoch_begin(epoch)
        for batch in range(4):
            clock.t += 1  # one second a batch: an epoch is 4 s, the interval 6 s
            cb.on_train_batch_end(batch)
        cb.on_epoch_end(epoch, {"loss": 1.0})
    # 6 s: inside epoch 2 (after its 2nd batch); 12 s: at the end of epoch 3; 18 s: inside epoch 5
    # (after its 2nd batch); then after the last epoch.
    assert store.saves == [(1, 2), (3, 0), (4, 2), (5, 0)]


def test_the_keras_callback_saves_before_a_hand_back_that_arrives_at_an_epoch_end(tmp_path):
    from workers.trainers.keras_progress import JobCallback

    def report(p: Progress) -> None:
        if p.epoch_end and p.epoch == 2:
            raise HandBack("SIGTERM")

    clock, store = Clock(), Recorder()
    cb = JobCallback(report, total_epochs=5, steps=2, checkpoints=CheckpointAccess(store, 3600, clock=clock))
    cb.set_model(object())
    with pytest.raises(HandBack):
        for epoch in range(5):
            cb.on_epoch_begin(epoch)
            for batch in range(2):
                cb.on_train_batch_end(batch)
            cb.on_epoch_end(epoch, {"loss": 1.0})
    assert store.saves == [(2, 0)]
