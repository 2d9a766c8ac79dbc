"""How soon a new job child says "up" while its ML framework imports: before and after workers.jobs.warmup.

Celery kills a pool child that has not said "up" within its limit (4 s by default). Before,
a child imported TensorFlow and then said up; now it starts the import in a thread
(``workers.jobs.warmup``) and says up at once. This forks children from a parent that has not
imported the framework, alternating the two ways, and reports the median time to "up" and
to "warm" (framework imported) for each.

The framework is TensorFlow where it is installed, else PyTorch with CUDA (the GPU check
machine has no TensorFlow): ``python -m bench.child_up [--rounds 3] [--gpu-env JSON]``.
``--gpu-env`` sets the environment the launcher plans for one GPU worker (CUDA pinning)
and reports how many devices the child then sees.
"""
from __future__ import annotations

import argparse
import importlib
import importlib.util
import json
import multiprocessing as mp
import os
import statistics
import threading
import time


def _framework() -> str:
    for name in ("tensorflow", "torch"):
        if importlib.util.find_spec(name):
            return name
    raise SystemExit("neither tensorflow nor torch is installed")


def _load(name: str) -> int:
    """Import the framework and touch its devices (CUDA initialises here); returns the GPUs seen."""
    if name == "tensorflow":
        from workers.jobs import warmup

        warmup.wait_until_warm(600)
        import tensorflow as tf

        return len(tf.config.list_physical_devices("GPU"))
    torch = importlib.import_module("torch")
    if not torch.cuda.is_available():
        return 0
    torch.zeros(1, device="cuda")
    return torch.cuda.device_count()


def _child(way: str, name: str, conn, started: float, env: dict[str, str]) -> None:
    os.environ.update(env)
    seen = [0]
    if way == "before":  # the old child: the whole import, then "up"
        seen[0] = _load(name)
        conn.send(("up", time.monotonic() - started))
    else:
        if name == "tensorflow":
            from workers.jobs import warmup

            warmup.start()
        loader = threading.Thread(target=lambda: seen.__setitem__(0, _load(name)), daemon=True)
        loader.start()
        conn.send(("up", time.monotonic() - started))
        loader.join()
    conn.send(("warm", time.monotonic() - started, seen[0]))


def one(way: str, name: str, env: dict[str, str]) -> dict[str, float]:
    parent, child = mp.Pipe()
    started = time.monotonic()
    proc = mp.get_context("fork").Process(target=_child, args=(way, name, child, started, env))
    proc.start()
    up = parent.recv()[1]
    _, warm, gpus = parent.recv()
    proc.join()
    return {"up_s": up, "warm_s": warm, "gpus": gpus}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--gpu-env", default="{}", help="environment of one planned GPU worker, as JSON")
    args = parser.parse_args(argv)
    name, env = _framework(), json.loads(args.gpu_env)
    runs: dict[str, list[dict[str, float]]] = {"before": [], "after": []}
    for _ in range(args.rounds):
        for way in ("before", "after"):
            runs[way].append(one(way, name, env))
    report = {"framework": name, "env": env}
    for way, rows in runs.items():
        report[way] = {"median_up_s": round(statistics.median(r["up_s"] for r in rows), 3),
                       "median_warm_s": round(statistics.median(r["warm_s"] for r in rows), 3),
                       "gpus_seen": sorted({r["gpus"] for r in rows})}
    report["up_ratio_after_over_before"] = round(report["after"]["median_up_s"] / report["before"]["median_up_s"], 4)
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
