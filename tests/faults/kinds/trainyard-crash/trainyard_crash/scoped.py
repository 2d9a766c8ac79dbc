"""The "scoped" kind: trains inside a scope whose exit fails when a signal's SystemExit unwinds through
it, as TensorFlow's device scope does ("Exiting device scope without proper scope nesting") when Celery
terminates the child mid-``fit``. The job runner must not take that error for the job's own failure."""
from __future__ import annotations

import time

from trainyard.kinds import TRAINING_PARAMS, KindSpec
from trainyard.training import TrainContext

SPEC = KindSpec(
    name="scoped",
    title="Scoped (test only): its cleanup fails when the worker's child is terminated",
    data_kinds=("tabular",),
    trainer="trainyard_crash.scoped:train",
    params=TRAINING_PARAMS,
)


class _Scope:
    def __enter__(self) -> _Scope:
        return self

    def __exit__(self, kind, exc, tb) -> None:
        if kind is not None and not issubclass(kind, Exception):  # SystemExit from a terminate signal
            raise RuntimeError("Exiting device scope without proper scope nesting")


def train(ctx: TrainContext) -> None:
    """Never ends by itself: reports progress (which honours cancel and hand-back) until stopped."""
    ctx.log.info("scoped kind: training inside the scope")
    with _Scope():
        while True:
            ctx.step(1, 0.5)
            time.sleep(0.05)
