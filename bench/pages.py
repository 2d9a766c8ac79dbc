"""Page render time with 100,000 jobs and 1,000 versions: p50/p99 of the jobs page and a model page.

Run: .venv/bin/python bench/pages.py [--jobs 100000] [--versions 1000] [--requests 200]
Renders through the Flask test client in this process (the server-side cost of a page: queries and
templates, no network), against a temporary SQLite database filled with bulk inserts. Target: p50 < 50 ms.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import insert, select

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run as a script from anywhere


def fill(rt, n_jobs: int, n_versions: int) -> str:
    """Bulk-insert jobs (mixed statuses) and one model with ``n_versions`` versions; returns its name."""
    from app.models import Dataset, Job, ModelVersion, RegisteredModel

    with rt.session() as s:
        dataset = s.scalars(select(Dataset).where(Dataset.name == "iris")).one()
        model = RegisteredModel(name="bench-model", created_at=datetime.now(UTC))
        s.add(model)
        s.flush()
        start = datetime.now(UTC) - timedelta(days=30)
        statuses = ("succeeded", "failed", "queued", "cancelled", "succeeded")
        rows, job_ids = [], []
        for i in range(n_jobs):
            job_id = str(uuid.uuid4())
            job_ids.append(job_id)
            rows.append({"id": job_id, "type": "train", "kind": "mlp", "model_name": "bench-model",
                         "dataset_id": dataset.id, "params": {"epochs": 1}, "status": statuses[i % 5],
                         "queue": "cpu", "priority": 0, "progress": 1.0, "epoch": 1, "total_epochs": 1,
                         "metrics": {"test_accuracy": 0.9}, "attempt": 1, "created_at": start + timedelta(seconds=i)})
            if len(rows) == 5000:
                s.execute(insert(Job), rows)
                rows = []
        if rows:
            s.execute(insert(Job), rows)
        s.execute(insert(ModelVersion), [
            {"model_id": model.id, "version": v + 1, "job_id": job_ids[v * 5], "kind": "mlp",
             "dataset_id": dataset.id, "dataset_sha256": dataset.sha256, "params": {"epochs": 1},
             "metrics": {"test_accuracy": 0.9, "test_macro_f1": 0.9}, "framework": {},
             "created_at": start + timedelta(seconds=v)} for v in range(n_versions)])
    return "bench-model"


def timed(client, url: str, n: int) -> list[float]:
    out = []
    for _ in range(n):
        started = time.perf_counter()
        r = client.get(url)
        out.append((time.perf_counter() - started) * 1000)
        assert r.status_code == 200, (url, r.status_code)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--jobs", type=int, default=100_000)
    parser.add_argument("--versions", type=int, default=1000)
    parser.add_argument("--requests", type=int, default=200)
    args = parser.parse_args()

    from app import create_app
    from app.config import Settings
    from app.migrate import upgrade
    from app.services.datasets import ensure_builtin_datasets
    from tests.support import admin_token

    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(database_url=f"sqlite:///{Path(tmp) / 'pages.db'}", models_store=Path(tmp) / "store",
                            redis_url="redis://127.0.0.1:6379/15", testing=True)
        upgrade(settings.database_url)
        app = create_app(settings)
        rt = app.extensions["trainyard"]
        with rt.session() as s:
            ensure_builtin_datasets(s)
        began = time.perf_counter()
        name = fill(rt, args.jobs, args.versions)
        print(f"filled {args.jobs:,} jobs and {args.versions:,} versions in {time.perf_counter() - began:.1f} s")
        client = app.test_client()  # as a signed-in admin would (Bearer token: one indexed lookup per request)
        client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {admin_token(rt)}"
        pages = {"jobs page (/)": "/", "jobs page, status filter": "/?status=failed",
                 "model page": f"/models/{name}", "constant JSON (floor)": "/api/v1/health"}
        print("| page | p50 ms | p99 ms | target |\n|---|---:|---:|---|")
        for label, url in pages.items():
            timed(client, url, 5)  # warm up
            ms = sorted(timed(client, url, args.requests))
            p50, p99 = statistics.median(ms), ms[int(len(ms) * 0.99) - 1]
            target = "" if "floor" in label else ("met" if p50 < 50 else "MISSED") + " (< 50 ms)"
            print(f"| {label} | {p50:.1f} | {p99:.1f} | {target} |")


if __name__ == "__main__":
    main()
