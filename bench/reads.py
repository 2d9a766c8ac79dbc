"""(c) GET /api/v1/jobs/<id> throughput and p99 at 32 connections over 100,000 jobs, vs a constant route.

Both endpoints are served by the same web process (the Procfile's: Granian, 2 workers x 4
threads, access log on) and the same Flask app in the same run,
hit by the same load generator with the same connections and duration, alternating
twice. ``/bench/constant`` (bench/wsgi.py) does no I/O, so its rate is the server's
floor; the ratio is what the job lookup (session, indexed join, serialisation) costs.
"""
from __future__ import annotations

import random
import statistics
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import insert, select

from app.db import make_engine
from app.models import Dataset, Job
from bench.loadgen import Load, hammer, have_wrk, wrk
from bench.report import Row
from bench.stack import Stack

CONNECTIONS = 32
ROUNDS = 2
BATCH = 5000
STATUSES = (("queued", 10), ("running", 5), ("succeeded", 70), ("failed", 10), ("cancelled", 5))


def _job(rng: random.Random, dataset_id: int, now: datetime) -> dict[str, Any]:
    """One plausible job row with a random status and timestamps."""
    status = rng.choices([s for s, _ in STATUSES], [w for _, w in STATUSES])[0]
    created = now - timedelta(seconds=rng.uniform(60, 90 * 86400))
    started = created + timedelta(seconds=rng.uniform(0.01, 30)) if status != "queued" else None
    finished = started + timedelta(seconds=rng.uniform(1, 600)) if started and status != "running" else None
    epochs = rng.choice((5, 10, 20, 50))
    return {
        "id": str(uuid.UUID(int=rng.getrandbits(128), version=4)), "type": "train", "kind": "mlp",
        "model_name": f"seed-model-{rng.randrange(500)}", "dataset_id": dataset_id,
        "params": {"epochs": epochs, "batch_size": 32, "hidden_units": 64, "hidden_layers": 1,
                   "dropout": 0.0, "learning_rate": 0.001, "validation_split": 0.1, "seed": 42},
        "status": status, "queue": "cpu", "priority": 0, "progress": 1.0 if finished else 0.0,
        "epoch": epochs if finished else 0, "total_epochs": epochs,
        "metrics": {"test_accuracy": round(rng.random(), 4)} if status == "succeeded" else {},
        "error": "Traceback ...\nValueError: boom" if status == "failed" else None,
        "attempt": 0 if status == "queued" else 1, "worker": None if status == "queued" else "cpu@bench",
        "heartbeat_at": started, "dispatched_at": created, "created_at": created,
        "started_at": started, "finished_at": finished, "created_by": None, "idempotency_key": None,
    }


def seed_jobs(stack: Stack, n: int) -> list[str]:
    """Bulk-insert ``n`` jobs (Core executemany, batches of 5,000); return their ids."""
    engine = make_engine(stack.settings.database_url)
    rng, now, ids = random.Random(0), datetime.now(UTC), []
    try:
        with engine.begin() as conn:
            dataset_id = conn.execute(select(Dataset.id).where(Dataset.name == "iris")).scalar_one()
            for start in range(0, n, BATCH):
                rows = [_job(rng, dataset_id, now) for _ in range(min(BATCH, n - start))]
                conn.execute(insert(Job), rows)
                ids.extend(r["id"] for r in rows)
    finally:
        engine.dispose()
    return ids


def measure(stack: Stack, paths: list[str], seconds: float) -> Load:
    """Load one endpoint: wrk on the first path if installed, else the threaded client over all paths."""
    if have_wrk():
        return wrk(stack.base + paths[0], seconds, CONNECTIONS, headers=stack.auth)
    return hammer("127.0.0.1", stack.port, lambda i: ("GET", paths[i % len(paths)], None),
                  CONNECTIONS, seconds=seconds, headers=stack.auth)


def _mean(loads: list[Load], attr: str) -> float:
    """Mean of one attribute over rounds."""
    return statistics.fmean(getattr(x, attr) for x in loads)


def run(stack: Stack, seconds: float, n_jobs: int = 100_000) -> list[Row]:
    """Seed, warm up, then alternate constant / job-GET rounds (target: job rps >= 0.8x constant, issue 16)."""
    ids = seed_jobs(stack, n_jobs)
    picked = random.Random(1).sample(ids, 1000)
    job_paths = [f"/api/v1/jobs/{i}" for i in picked]
    const_paths = ["/bench/constant"]
    measure(stack, const_paths, 1)
    measure(stack, job_paths, 1)
    const: list[Load] = []
    jobs: list[Load] = []
    for _ in range(ROUNDS):
        const.append(measure(stack, const_paths, seconds))
        jobs.append(measure(stack, job_paths, seconds))
    errors = sum(x.errors for x in const + jobs)
    if errors:
        raise RuntimeError(f"{errors} failed requests during the read benchmark")
    rps, floor = _mean(jobs, "rps"), _mean(const, "rps")
    tool = "wrk" if have_wrk() else "threads"
    return [Row("c", f"GET job req/s, {CONNECTIONS} conns, {n_jobs:,} jobs ({tool})", rps, floor,
                "constant route", "≥ 0.8x", rps >= 0.8 * floor),
            Row("c", "GET job p99 ms", _mean(jobs, "p99_ms"), _mean(const, "p99_ms"), "constant route")]
