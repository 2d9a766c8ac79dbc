"""Baselines for (f) and (g), in a fresh process: the loaded model called directly.

``--csv`` mode: parse the same CSV with numpy (not timed), then time ``model.predict`` over all
rows with the batch size the platform uses; prints rows/s and this process's peak RSS.
``--single`` mode: time ``model.predict_on_batch`` on one row, N times; prints p50/p99 ms.
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--model", required=True)
    p.add_argument("--csv")
    p.add_argument("--features", type=int, default=4)
    p.add_argument("--single", type=int, default=0)
    p.add_argument("--batch-size", type=int, default=8192)
    args = p.parse_args()
    import keras
    import numpy as np

    model = keras.models.load_model(args.model, safe_mode=True)
    out: dict[str, float] = {}
    if args.csv:
        x = np.loadtxt(args.csv, delimiter=",", skiprows=1, usecols=range(1, 1 + args.features), dtype=np.float32)
        model.predict(x[:1000], batch_size=args.batch_size, verbose=0)  # warm-up
        t0 = time.perf_counter()
        model.predict(x, batch_size=args.batch_size, verbose=0)
        out["rows_per_s"] = len(x) / (time.perf_counter() - t0)
        out["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    if args.single:
        row = np.array([[5.1, 3.5, 1.4, 0.2]], dtype=np.float32)
        model.predict_on_batch(row)
        times = []
        for _ in range(args.single):
            t0 = time.perf_counter()
            model.predict_on_batch(row)
            times.append((time.perf_counter() - t0) * 1000)
        times.sort()
        out.update(p50_ms=statistics.median(times), p99_ms=times[int(len(times) * 0.99) - 1],
                   per_s=1000 / statistics.mean(times))
    print(json.dumps(out))


if __name__ == "__main__":
    main()
