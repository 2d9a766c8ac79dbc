"""Trainyard's side of (p): jobs up to the bench size, a model version with an alias, a viewer's token."""
from __future__ import annotations

from typing import TYPE_CHECKING

import requests
from sqlalchemy import func, select

from app.runtime import Runtime
from app.services import accounts, tokens
from bench.mlflow_peer import ALIAS, MODEL
from bench.reads import seed_jobs
from bench.stack import Stack

if TYPE_CHECKING:
    from bench.peers import Side


def seed(stack: Stack, n_jobs: int) -> tuple[int, list[str]]:
    """Top the jobs table up to ``n_jobs`` (as (c) seeds it); return its row count and one job id from
    the middle of the table (every lookup is one primary-key probe, so which row does not matter)."""
    from app.models import Job

    rt = Runtime.build(stack.settings)
    try:
        with rt.session() as session:
            count = session.scalar(select(func.count()).select_from(Job))
        if count < n_jobs:
            seed_jobs(stack, n_jobs - count)
        with rt.session() as session:
            count = session.scalar(select(func.count()).select_from(Job))
            job_id = session.scalar(select(Job.id).order_by(Job.id).offset(count // 2).limit(1))
    finally:
        rt.engine.dispose()
    return count, [job_id]


def trainyard_model_and_viewer(stack: Stack) -> dict[str, str]:
    """Model ``MODEL`` v1 (a row for one succeeded seeded job) with ``ALIAS`` moved onto it through the API,
    and a viewer account's token; returns that token's Authorization header."""
    from app.models import Dataset, Job, ModelVersion, RegisteredModel, utcnow

    rt = Runtime.build(stack.settings)
    try:
        with rt.session() as session:
            dataset = session.scalars(select(Dataset).where(Dataset.name == "iris")).one()
            job_id = session.scalar(select(Job.id).where(Job.status == "succeeded").limit(1))
            model = RegisteredModel(name=MODEL, created_at=utcnow())
            session.add(model)
            session.flush()
            session.add(ModelVersion(model_id=model.id, version=1, job_id=job_id, kind="mlp",
                                     dataset_id=dataset.id, dataset_sha256=dataset.sha256,
                                     params={"epochs": 20}, metrics={"test_accuracy": 0.95}, framework={},
                                     created_by="bench", created_at=utcnow()))
        with rt.session() as session:
            accounts.create_user(session, "bench-viewer", "viewer-password-for-bench", "viewer")
        with rt.session() as session:
            _, token = tokens.create_token(session, "bench-viewer", "bench peers")
    finally:
        rt.engine.dispose()
    resp = stack.http.post(f"{stack.base}/api/v1/models/{MODEL}/aliases/{ALIAS}",
                           json={"version": 1, "reason": "bench: the peer comparison reads this alias"}, timeout=30)
    resp.raise_for_status()
    return {"Authorization": f"Bearer {token}"}


def check_answers(sides: tuple[Side, ...]) -> None:
    """Every read answers 200 with what it should hold (50 items for the lists, the alias at v1)."""
    for side in sides:
        for load, (path, body) in side.reads.items():
            url = f"http://127.0.0.1:{side.port}{path}"
            resp = (requests.post(url, data=body, headers={"Content-Type": "application/json"}, timeout=30)
                    if body else requests.get(url, headers=side.headers, timeout=30))
            if resp.status_code != 200:
                raise RuntimeError(f"{side.name} {load} {path} answered {resp.status_code}: {resp.text[:300]}")
            data = resp.json()
            if load == "list" and len(data.get("items", data.get("runs", []))) != 50:
                raise RuntimeError(f"{side.name} list answered {resp.text[:300]}")
            if load == "alias":
                version = data["version"] if "version" in data else data["model_version"]["version"]
                if str(version) != "1":
                    raise RuntimeError(f"{side.name} alias answered {resp.text[:300]}")
