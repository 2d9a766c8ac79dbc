"""(h) A large CSV upload through the web: time, status, and whether the web stays free meanwhile.

Usage: ``.venv/bin/python bench/upload.py [--mb 200]``. The web runs as the Procfile runs it (Granian,
2 workers x 4 threads). The baseline, in the same run, is the same bytes POSTed to ``/bench/sink``,
which reads and drops the body (the transfer floor). Then two uploads run at once while a client
asks ``/api/v1/health`` every 0.2 s: the slowest health answer says whether uploads tie the web up.
"""
from __future__ import annotations

import argparse
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import requests  # noqa: E402

from bench.report import Row, table  # noqa: E402
from bench.stack import Stack  # noqa: E402


def make_csv(path: Path, megabytes: int) -> int:
    """A valid tabular CSV shaped like digits (64 small-integer pixels, 10 classes): many short fields
    per MiB, the slow case for parsing. About ``megabytes`` MiB; returns the rows."""
    import numpy as np

    rng = np.random.default_rng(0)
    block = "".join(",".join(map(str, rng.integers(0, 17, 64))) + f",{i % 10}\n" for i in range(5000))
    repeats = max(1, megabytes * 1024 * 1024 // len(block))
    with open(path, "w") as fh:
        fh.write(",".join(f"p{i}" for i in range(64)) + ",label\n")
        for _ in range(repeats):
            fh.write(block)
    return repeats * 5000


def post(stack: Stack, url: str, path: Path) -> tuple[float, int, str]:
    """POST the file as the raw body; (seconds, status, first 200 characters of the answer)."""
    t0 = time.perf_counter()
    with open(path, "rb") as fh:
        r = stack.http.post(url, data=fh, headers={"Content-Type": "text/csv"}, timeout=900)
    return time.perf_counter() - t0, r.status_code, r.text[:200]


def concurrent(stack: Stack, path: Path) -> tuple[float, list[int], float]:
    """Two uploads at once; (wall seconds, their statuses, slowest health answer in seconds)."""
    results: list[tuple[float, int, str]] = []
    threads = [threading.Thread(target=lambda n=n: results.append(
        post(stack, f"{stack.base}/api/v1/datasets?name=both{n}&kind=tabular", path))) for n in range(2)]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    slowest = 0.0
    while any(t.is_alive() for t in threads):
        h0 = time.perf_counter()
        try:
            requests.get(f"{stack.base}/api/v1/health", timeout=120)
        except requests.RequestException:
            pass
        slowest = max(slowest, time.perf_counter() - h0)
        time.sleep(0.2)
    for t in threads:
        t.join()
    return time.perf_counter() - t0, sorted(r[1] for r in results), slowest


def main() -> int:
    """Start web only, measure sink, one upload, two uploads; print the table."""
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--mb", type=int, default=200)
    args = p.parse_args()
    stack = Stack()
    label = "Procfile's web"
    try:
        stack.prepare()
        rows = make_csv(stack.tmp / "big.csv", args.mb)
        size_mb = (stack.tmp / "big.csv").stat().st_size / 2**20
        print(f"{size_mb:.0f} MiB, {rows:,} rows; {label}", file=sys.stderr)
        stack.start_web()
        sink, sink_status, sink_text = post(stack, f"{stack.base}/bench/sink", stack.tmp / "big.csv")
        print(f"sink: {sink_status} in {sink:.2f} s: {sink_text!r}", file=sys.stderr)
        one, status, text = post(stack, f"{stack.base}/api/v1/datasets?name=big&kind=tabular",
                                 stack.tmp / "big.csv")
        print(f"one upload: {status} in {one:.1f} s: {text!r}", file=sys.stderr)
        both, statuses, slowest = concurrent(stack, stack.tmp / "big.csv")
        print(f"two uploads: {statuses} in {both:.1f} s; slowest health {slowest:.2f} s", file=sys.stderr)
    finally:
        stack.close()
    mb = f"{size_mb:.0f} MiB"
    print(table([
        Row("h", f"upload {mb} CSV s ({label}; answered {status})", one, sink, "/bench/sink, same bytes",
            "≤ 30 s, 201", one <= 30 and status == 201),
        Row("h", f"two uploads at once s (answered {statuses})", both, sink, "/bench/sink, same bytes"),
        Row("h", "slowest /api/v1/health during them s", slowest, None, "—", "≤ 1 s", slowest <= 1),
    ]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
