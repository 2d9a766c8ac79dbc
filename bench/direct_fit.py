"""Fit one kind in this process by calling its trainer directly: the floor for benchmark (e).

The same trainer function, params (validated and defaulted like the API does), seed and
data as a platform job, but with no progress sink and no checkpoint store: no lease
checks, no progress writes, no per-epoch checkpoints. Prints the trainer's metrics as JSON.
Usage: ``python bench/direct_fit.py KIND DATASET [--params JSON] [--csv FILE] [--warmup]``, where DATASET
is a built-in name, or ``upload`` for the text CSV in ``--csv`` (parsed as an upload is).
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def load(dataset: str, csv: Path | None):
    """A built-in dataset, or the text CSV inspected and loaded exactly as an upload is."""
    from app.data.builtin import BUILTINS

    if dataset != "upload":
        return BUILTINS[dataset].loader()
    from app.data.uploads import inspect_upload, load_upload

    if csv is None:
        raise SystemExit("dataset 'upload' needs --csv")
    return load_upload(csv, "text", inspect_upload(csv, "text", {}).schema)


def fit(kind: str, params: dict, data, workdir: Path, warmup: bool = False) -> dict:
    """Run the kind's trainer and return its metrics.

    Untimed first: the kind's stage (hierarchical: word2vec); with ``warmup``, a 1-epoch fit of the same kind.
    """
    from app.kinds import KINDS
    from workers.trainers import TRAINERS, TrainContext

    clean, errors = KINDS[kind].validate(params)
    if errors:
        raise SystemExit(f"invalid params: {errors}")
    inputs: dict[str, Path] = {}
    for stage in KINDS[kind].stages:
        stage1 = workdir / "stage1"
        stage1.mkdir()
        stage_data = load(clean[stage.dataset_param], None)
        ctx = TrainContext(stage.params(clean), stage_data, stage1)
        TRAINERS[stage.kind](ctx)
        inputs = {p.name: p for p in ctx.result().files}
    runs = [("warmup", {**clean, "epochs": 1})] if warmup else []
    for name, run_params in [*runs, ("out", clean)]:
        out = workdir / name
        out.mkdir()
        ctx = TrainContext(run_params, data, out, inputs=inputs)  # no progress sink, no checkpoint store
        TRAINERS[kind](ctx)
    return ctx.result().metrics


def main() -> None:
    """Parse the command line, fit, print the metrics as one JSON line."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("kind")
    parser.add_argument("dataset")
    parser.add_argument("--params", default="{}", help="the job's params as JSON")
    parser.add_argument("--csv", type=Path, default=None, help="text CSV (dataset 'upload')")
    parser.add_argument("--warmup", action="store_true", help="an untimed 1-epoch fit first, as a warm worker")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-direct-") as tmp:
        metrics = fit(args.kind, json.loads(args.params), load(args.dataset, args.csv), Path(tmp),
                      args.warmup)
    print(json.dumps({k: v for k, v in metrics.items() if k != "confusion_matrix"}, default=str))


if __name__ == "__main__":
    main()
