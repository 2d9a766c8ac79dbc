"""Fill an MLflow SQLite store with N runs shaped like bench jobs, plus one registered model with an alias.

Runs inside the peer virtualenv (``bench/out/peer-venv/bin/python bench/peer_populate.py ...``) and imports
nothing from Trainyard. MLflow's own ``SqlAlchemyStore`` creates the schema (its Alembic migrations, as
``mlflow db upgrade`` does) and the default experiment; the runs then go in by Core executemany into
MLflow's own tables (``runs``, ``tags``, ``params``, ``metrics``, ``latest_metrics``) in batches of 5,000,
which takes seconds where 100,000 REST calls would take many minutes. Each run carries what a bench job
carries: a status and times, 8 params, a test_accuracy metric when it finished, and 5 tags (run name,
user, source type, model name, kind). The registered model, its version (pointing at one finished run)
and its alias go through the registry store's API. Prints JSON: the run count and 1,000 random run ids.

Usage: ``peer_populate.py sqlite:////abs/mlflow.db /abs/artifacts N MODEL ALIAS``
"""
from __future__ import annotations

import json
import random
import sys
import time
import uuid

from mlflow.store.model_registry.sqlalchemy_store import SqlAlchemyStore as RegistryStore
from mlflow.store.tracking.dbmodels.models import SqlLatestMetric, SqlMetric, SqlParam, SqlRun, SqlTag
from mlflow.store.tracking.sqlalchemy_store import SqlAlchemyStore

BATCH = 5000
DAY_MS = 86_400_000
# the job statuses of bench/reads.py, with their weights, as MLflow run statuses
STATUSES = (("SCHEDULED", 10), ("RUNNING", 5), ("FINISHED", 70), ("FAILED", 10), ("KILLED", 5))


def _run(rng: random.Random, now_ms: int, artifact_root: str) -> tuple[dict, list, list, list]:
    """One run row and its tags, params and metrics (the same rows go to metrics and latest_metrics)."""
    status = rng.choices([s for s, _ in STATUSES], [w for _, w in STATUSES])[0]
    run_id = uuid.UUID(int=rng.getrandbits(128), version=4).hex
    start = now_ms - rng.randrange(60_000, 90 * DAY_MS)
    end = start + rng.randrange(1_000, 600_000) if status not in ("SCHEDULED", "RUNNING") else None
    epochs = rng.choice((5, 10, 20, 50))
    name = f"run-{run_id[:8]}"
    run = {"run_uuid": run_id, "name": name, "source_type": "LOCAL", "source_name": "train.py",
           "entry_point_name": "", "user_id": "bench", "status": status, "start_time": start,
           "end_time": end, "source_version": "", "lifecycle_stage": "active",
           "artifact_uri": f"{artifact_root}/0/{run_id}/artifacts", "experiment_id": 0}
    tags = [{"key": k, "value": v, "run_uuid": run_id} for k, v in (
        ("mlflow.runName", name), ("mlflow.user", "bench"), ("mlflow.source.type", "LOCAL"),
        ("model_name", f"seed-model-{rng.randrange(500)}"), ("kind", "mlp"))]
    params = [{"key": k, "value": str(v), "run_uuid": run_id} for k, v in (
        ("epochs", epochs), ("batch_size", 32), ("hidden_units", 64), ("hidden_layers", 1), ("dropout", 0.0),
        ("learning_rate", 0.001), ("validation_split", 0.1), ("seed", 42))]
    metrics = [{"key": "test_accuracy", "value": round(rng.random(), 4), "timestamp": end, "step": 0,
                "is_nan": False, "run_uuid": run_id}] if status == "FINISHED" else []
    return run, tags, params, metrics


def populate(db_uri: str, artifact_root: str, n: int) -> list[str]:
    """Create the schema and ``n`` runs in the default experiment; return every run id."""
    store = SqlAlchemyStore(db_uri, artifact_root)
    rng, ids = random.Random(0), []
    now_ms = int(time.time() * 1000)
    with store.engine.begin() as conn:
        for start in range(0, n, BATCH):
            rows = [_run(rng, now_ms, artifact_root) for _ in range(min(BATCH, n - start))]
            conn.execute(SqlRun.__table__.insert(), [r[0] for r in rows])
            for table, part in ((SqlTag, 1), (SqlParam, 2), (SqlMetric, 3), (SqlLatestMetric, 3)):
                batch = [row for r in rows for row in r[part]]
                if batch:
                    conn.execute(table.__table__.insert(), batch)
            ids.extend(r[0]["run_uuid"] for r in rows)
    store.engine.dispose()
    return ids


def register(db_uri: str, artifact_root: str, model: str, alias: str, run_id: str) -> None:
    """A registered model with one version (from ``run_id``) and ``alias`` pointing at it."""
    reg = RegistryStore(db_uri)
    reg.create_registered_model(model)
    version = reg.create_model_version(model, f"{artifact_root}/0/{run_id}/artifacts/model", run_id=run_id)
    reg.set_registered_model_alias(model, alias, version.version)
    reg.engine.dispose()


def main() -> int:
    db_uri, artifact_root, n, model, alias = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4], sys.argv[5]
    ids = populate(db_uri, artifact_root, n)
    register(db_uri, artifact_root, model, alias, ids[len(ids) // 2])
    print(json.dumps({"runs": len(ids), "sample": random.Random(1).sample(ids, min(1000, len(ids)))}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
