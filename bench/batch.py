"""(f) batch inference rows/s and peak memory, next to a bare ``model.predict`` over the same rows.

Platform: a batch job on the live stack over a generated CSV of N iris-like rows (uploaded
with purpose=scoring), reading ``rows_per_s`` and ``peak_rss_mb`` from its summary: parsing,
scoring, the per-chunk parts and manifest, and the final CSV/Parquet assembly all count.
Baseline: ``bench/bare_predict.py --csv`` in a fresh process: the same model.keras, the rows
parsed by numpy beforehand (not timed), one ``model.predict`` over all of them, same batch size.
"""
from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
from sklearn.datasets import load_iris

from app.config import PROJECT_ROOT
from bench.report import Row
from bench.stack import Stack


def _csv(stack: Stack, n: int):
    iris = load_iris()
    path = stack.tmp / f"score-{n}.csv"
    rng = np.random.default_rng(0)
    with open(path, "w") as fh:
        fh.write("id," + ",".join(iris.feature_names) + "\n")
        for start in range(0, n, 100_000):
            x = iris.data[rng.integers(0, 150, size=min(100_000, n - start))]
            fh.write("\n".join(f"r{start + i + 1}," + ",".join(f"{v:.1f}" for v in row) for i, row in enumerate(x)))
            fh.write("\n")
    return path


def run_bare(stack: Stack, job_id: str, *args: str) -> dict:
    """``bench/bare_predict.py`` on the model.keras that job ``job_id`` registered, in a fresh process."""
    model_path = stack.settings.models_store / "artifacts" / job_id / "a1" / "model.keras"
    proc = subprocess.run([sys.executable, str(PROJECT_ROOT / "bench" / "bare_predict.py"), "--model",
                           str(model_path), *args], env=stack.env(), capture_output=True, text=True)
    if proc.returncode:
        raise RuntimeError(proc.stderr[-2000:])
    return json.loads(proc.stdout.strip().splitlines()[-1])


def run(stack: Stack, rows: int) -> list[Row]:
    stack.start_worker()
    model = stack.submit({"kind": "mlp", "dataset": "iris", "model_name": "bench-batch", "params": {"epochs": 5}})
    stack.wait_job(model["id"], interval=0.2)
    path = _csv(stack, rows)
    with open(path, "rb") as fh:
        r = stack.http.post(f"{stack.base}/api/v1/datasets", params={"name": "bench-score", "kind": "tabular",
                                                                     "purpose": "scoring", "key_column": "id"},
                            data=fh, headers={"Content-Type": "text/csv"}, timeout=600)
    if r.status_code != 201:
        raise RuntimeError(f"upload answered {r.status_code}: {r.text[:300]}")
    job = stack.submit({"type": "infer", "model_name": "bench-batch", "version": 1, "dataset": "bench-score"})
    summary = stack.wait_job(job["id"], interval=0.2, timeout=1200)["metrics"]
    bare = run_bare(stack, model["id"], "--csv", str(path))
    ratio = summary["rows_per_s"] / bare["rows_per_s"]
    return [
        Row("f", f"batch rows/s, {rows:,} rows, mlp/iris", summary["rows_per_s"], bare["rows_per_s"],
            "bare model.predict", "≥ 0.9x", ratio >= 0.9),
        Row("f", "peak RSS MiB (worker child / bare process)", summary["peak_rss_mb"], bare["peak_rss_mb"],
            "bare model.predict"),
    ]
