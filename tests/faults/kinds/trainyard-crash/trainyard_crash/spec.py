"""The crash kind's declaration: trains on tables, takes the usual training parameters."""
from trainyard.kinds import TRAINING_PARAMS, KindSpec

SPEC = KindSpec(
    name="crash",
    title="Crash (test only): kills the worker that trains it",
    data_kinds=("tabular",),
    trainer="trainyard_crash.trainer:train",
    params=TRAINING_PARAMS,
)
