"""Run the Trainyard benchmarks against a throwaway live stack and print a markdown table.

Usage: ``.venv/bin/python bench/run.py [--only a,b,c,d,e,f,g,h,i] [--peers] [--quick] [--redis-db 14]``.
``--peers`` adds (p), the comparison with an MLflow tracking server (bench/peers.py; it builds its own
virtualenv under bench/out/ on first use); ``--only p`` runs that comparison alone.
Everything started here (web, serve, Celery workers, temp folder, Redis db) is
stopped and removed on exit, also on errors and Ctrl-C.
"""
from __future__ import annotations

import argparse
import signal
import sys
import time
from pathlib import Path
from typing import NoReturn

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench import (  # noqa: E402
    batch,
    fit,
    latency,
    peers,
    reads,
    serve_load,
    serve_start,
    serving,
    submit,
    throughput,
    worker_model,
)
from bench.report import Row, table  # noqa: E402
from bench.stack import Stack  # noqa: E402

ALL = ("a", "b", "c", "d", "e", "f", "g", "h", "i")
OPT_IN = ("p",)  # not run unless asked for: --peers or --only p


def _parse() -> argparse.Namespace:
    """Command-line options."""
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--only", default=",".join(ALL), help="comma-separated subset of a,b,c,d,e,f,g,h,i,p")
    p.add_argument("--peers", action="store_true",
                   help="also run (p): the same loads against an MLflow 3 tracking server (opt-in)")
    p.add_argument("--peer-rounds", type=int, help="(p): alternating rounds per load (default 7, quick 3)")
    p.add_argument("--peer-seconds", type=float, help="(p): seconds per round and side (default 10, quick 3)")
    p.add_argument("--peer-jobs", type=int, help="(p): jobs and runs (default 100,000, quick 10,000)")
    p.add_argument("--quick", action="store_true", help="small N and short runs (a smoke test)")
    p.add_argument("--redis-db", type=int, default=14, help="Redis database number to use (flushed)")
    p.add_argument("--database", choices=("sqlite", "postgresql"), default="sqlite",
                   help="the stack's database: a temp SQLite file (default), or a fresh database on the test "
                        "PostgreSQL (TEST_POSTGRES_URL), dropped at the end")
    args = p.parse_args()
    args.only = [x.strip() for x in args.only.split(",") if x.strip()]
    if args.peers and "p" not in args.only:
        args.only.append("p")
    unknown = set(args.only) - set(ALL + OPT_IN)
    if unknown:
        p.error(f"unknown benchmark(s): {', '.join(sorted(unknown))}")
    return args


def _on_sigterm(_sig: int, _frame: object) -> NoReturn:
    """Turn SIGTERM into SystemExit so the ``finally`` clean-up runs."""
    sys.exit(143)


def main() -> int:
    """Start the stack, run the chosen benchmarks in order, print the table, clean up."""
    args = _parse()
    q = args.quick
    signal.signal(signal.SIGTERM, _on_sigterm)
    plan = {
        "a": lambda s: latency.run(s, n=30 if q else 200),
        "b": lambda s: fit.run(s, repeats=1 if q else 3),
        "c": lambda s: reads.run(s, seconds=3 if q else 10),
        "d": lambda s: submit.run(s, total=300 if q else 2000),
        "e": lambda s: throughput.run(s, repeats=1 if q else 3),
        "f": lambda s: batch.run(s, rows=100_000 if q else 1_000_000),
        "g": lambda s: serving.run(s, n=100 if q else 500),
        "h": lambda s: (serve_start.run(s, n=100 if q else 500, starts=1 if q else 2)
                        + serve_load.run(s, seconds=3 if q else 10, rounds=1 if q else 2, rate=500,
                                         moves=3 if q else 10)),
        "i": lambda s: worker_model.run(s, seconds=3 if q else 10, rounds=1 if q else 2),
        "p": lambda s: peers.run(s, rounds_n=args.peer_rounds or (3 if q else 7),
                                 seconds=args.peer_seconds or (3 if q else 10),
                                 n_jobs=args.peer_jobs or (10_000 if q else 100_000)),
    }
    stack = Stack(redis_db=args.redis_db, backend=args.database)
    rows: list[Row] = []
    try:
        print(f"stack in {stack.tmp} on {args.database}, Redis db {args.redis_db}, port {stack.port}",
              file=sys.stderr)
        stack.prepare()
        stack.start_web()
        for name in ALL + OPT_IN:
            if name in args.only:
                t0 = time.monotonic()
                print(f"running ({name}) ...", file=sys.stderr, flush=True)
                rows += plan[name](stack)
                print(f"({name}) done in {time.monotonic() - t0:.0f} s", file=sys.stderr, flush=True)
    finally:
        stack.close()
    print(table(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
