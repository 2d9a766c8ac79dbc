"""(f) batch inference rows/s and peak memory, against a user's own pandas script (issue 16).

Platform: a batch job on the live stack over a generated CSV of N iris-like rows (uploaded
with purpose=scoring), reading ``rows_per_s`` and ``peak_rss_mb`` from its summary: loading the model,
parsing, scoring, the per-chunk parts and manifest, and the final CSV/Parquet assembly all count.
Baseline: ``bench/pandas_score.py`` in a fresh process, ``read_csv`` -> ``model.predict`` -> ``to_csv``
on the same file and model.keras, timed from loading the model to the written file. Both run at N/10
and N rows: the job's peak memory must stay flat between them (the script's grows with the file).
Context: ``bench/bare_predict.py --csv``, one ``model.predict`` over rows parsed beforehand (the floor).
"""
from __future__ import annotations

import json
import os
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


PANDAS_LIB = PROJECT_ROOT / "bench" / "out" / "pandas-lib"
PANDAS = ("pandas>=2,<4", "pytz", "tzdata")  # --no-deps: numpy and dateutil come from the project's venv


def _pandas_version() -> str | None:
    """pandas' version as ``bench/out/pandas-lib`` provides it, or None when it is not there."""
    check = subprocess.run([sys.executable, "-c", "import pandas; print(pandas.__version__)"], capture_output=True,
                           text=True, env={**os.environ, "PYTHONPATH": str(PANDAS_LIB)})
    return None if check.returncode else check.stdout.strip()


def ensure_pandas() -> str:
    """``bench/out/pandas-lib`` with pandas in it (installed on first use; not a project dependency)."""
    if (version := _pandas_version()) is None:
        print(f"installing {' '.join(PANDAS)} into {PANDAS_LIB} ...", file=sys.stderr, flush=True)
        subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
                        "--no-deps", "--upgrade", "--target", str(PANDAS_LIB), *PANDAS], check=True)
        version = _pandas_version()
    if version is None:
        raise RuntimeError(f"pandas does not import from {PANDAS_LIB} after installing it")
    return version


def _script(stack: Stack, script: str, job_id: str, *args: str, **env: str) -> dict:
    """``bench/<script>`` on the model.keras that job ``job_id`` registered, in a fresh process; its JSON."""
    model_path = stack.settings.models_store / "artifacts" / job_id / "a1" / "model.keras"
    proc = subprocess.run([sys.executable, str(PROJECT_ROOT / "bench" / script), "--model", str(model_path), *args],
                          env={**stack.env(), **env}, capture_output=True, text=True)
    if proc.returncode:
        raise RuntimeError(proc.stderr[-2000:])
    return json.loads(proc.stdout.strip().splitlines()[-1])


def run_pandas(stack: Stack, job_id: str, csv, classes: list[str]) -> dict:
    """``bench/pandas_score.py`` on the same file and model.keras, with pandas from ``bench/out/pandas-lib``."""
    return _script(stack, "pandas_score.py", job_id, "--csv", str(csv), "--out", str(stack.tmp / "pandas-scored.csv"),
                   "--classes", ",".join(classes), PYTHONPATH=f"{PROJECT_ROOT}{os.pathsep}{PANDAS_LIB}")


def run_bare(stack: Stack, job_id: str, *args: str) -> dict:
    """``bench/bare_predict.py`` on the model.keras that job ``job_id`` registered, in a fresh process."""
    return _script(stack, "bare_predict.py", job_id, *args)


def _platform(stack: Stack, path, name: str) -> dict:
    """Upload ``path`` for scoring and run a batch job of bench-batch v1 over it; the job's summary."""
    with open(path, "rb") as fh:
        r = stack.http.post(f"{stack.base}/api/v1/datasets", params={"name": name, "kind": "tabular",
                                                                     "purpose": "scoring", "key_column": "id"},
                            data=fh, headers={"Content-Type": "text/csv"}, timeout=600)
    if r.status_code != 201:
        raise RuntimeError(f"upload answered {r.status_code}: {r.text[:300]}")
    job = stack.submit({"type": "infer", "model_name": "bench-batch", "version": 1, "dataset": name})
    return stack.wait_job(job["id"], interval=0.2, timeout=1200)["metrics"]


def run(stack: Stack, rows: int) -> list[Row]:
    pandas_version = ensure_pandas()
    stack.start_worker()
    model = stack.submit({"kind": "mlp", "dataset": "iris", "model_name": "bench-batch", "params": {"epochs": 5}})
    classes = [str(c) for c in stack.wait_job(model["id"], interval=0.2)["metrics"]["class_names"]]
    small, big = _csv(stack, rows // 10), _csv(stack, rows)
    plat_small, plat = _platform(stack, small, "bench-score-small"), _platform(stack, big, "bench-score")
    pd_small, pd_big = run_pandas(stack, model["id"], small, classes), run_pandas(stack, model["id"], big, classes)
    bare = run_bare(stack, model["id"], "--csv", str(big))
    ratio = plat["rows_per_s"] / pd_big["rows_per_s"]
    flat = plat["peak_rss_mb"] / plat_small["peak_rss_mb"]
    script = f"pandas {pandas_version} script"
    return [
        Row("f", f"batch rows/s, {rows:,} rows, mlp/iris", plat["rows_per_s"], pd_big["rows_per_s"], script,
            "≥ 1.0x", ratio >= 1.0),
        Row("f", f"batch rows/s, {rows // 10:,} rows", plat_small["rows_per_s"], pd_small["rows_per_s"], script,
            "≥ 1.0x", plat_small["rows_per_s"] >= pd_small["rows_per_s"]),
        Row("f", f"job peak RSS MiB, {rows:,} / {rows // 10:,} rows", plat["peak_rss_mb"], plat_small["peak_rss_mb"],
            f"the job at {rows // 10:,} rows", "flat (≤ 1.1x)", flat <= 1.1),
        Row("f", f"script peak RSS MiB, {rows:,} / {rows // 10:,} rows (context)", pd_big["peak_rss_mb"],
            pd_small["peak_rss_mb"], f"the script at {rows // 10:,} rows"),
        Row("f", f"job peak RSS MiB / script's, {rows:,} rows", plat["peak_rss_mb"], pd_big["peak_rss_mb"], script),
        Row("f", f"batch rows/s, {rows:,} rows, vs the floor (context)", plat["rows_per_s"], bare["rows_per_s"],
            "bare model.predict on pre-parsed rows"),
    ]
