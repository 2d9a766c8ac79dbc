"""The baseline of (f): a user's own batch-scoring script with pandas, as issue 16 words it.

``read_csv`` -> ``model.predict`` -> ``to_csv`` over the same file and the same model.keras as the
platform's batch job, writing what the job writes (the key, the best label, one probability column per
class). Timed from loading the model to the written file, as the job's ``rows_per_s`` is; prints rows/s
and this process's peak RSS as JSON. pandas is not a project dependency: ``bench/batch.py`` installs it
into ``bench/out/pandas-lib`` on first use and puts that on ``PYTHONPATH``.
Usage: ``python bench/pandas_score.py --model model.keras --csv rows.csv --out scored.csv --classes a,b,c``
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--model", required=True)
    p.add_argument("--csv", required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--classes", required=True, help="class names, comma-separated, in the model's order")
    p.add_argument("--key", default="id")
    p.add_argument("--batch-size", type=int, default=8192)
    args = p.parse_args()
    import keras
    import numpy as np
    import pandas as pd

    classes = np.array(args.classes.split(","), dtype=object)
    t0 = time.perf_counter()
    model = keras.models.load_model(args.model, safe_mode=True)
    df = pd.read_csv(args.csv)
    features = df.drop(columns=[args.key]).to_numpy(np.float32)
    probs = model.predict(features, batch_size=args.batch_size, verbose=0)
    out = pd.DataFrame({"key": df[args.key], "label": classes[probs.argmax(axis=1)]})
    for i, name in enumerate(classes):
        out[f"p_{name}"] = probs[:, i]
    out.to_csv(args.out, index=False)
    elapsed = time.perf_counter() - t0
    print(json.dumps({"rows": len(df), "rows_per_s": len(df) / elapsed, "elapsed_s": elapsed,
                      "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))


if __name__ == "__main__":
    main()
