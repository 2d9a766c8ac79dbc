"""Plain read models returned by services: ORM rows never leave the service layer."""
from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from datetime import datetime
from typing import Any

from app.domain.status import FINISHED
from app.models import Artifact, Dataset, Job, ModelVersion


def _iso(value: datetime | None) -> str | None:
    return value.isoformat().replace("+00:00", "Z") if value else None


@dataclass(frozen=True)
class DatasetView:
    id: int
    name: str
    version: int
    kind: str
    source: str
    sha256: str
    size_bytes: int
    rows: int
    schema: dict[str, Any]
    created_at: str | None
    created_by: str | None = None
    description: str | None = None

    @classmethod
    def of(cls, d: Dataset) -> DatasetView:
        return cls(d.id, d.name, d.version, d.kind, d.source, d.sha256, d.size_bytes, d.rows,
                   d.schema, _iso(d.created_at), d.created_by, d.description)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @property
    def scoring_only(self) -> bool:
        """Uploaded for batch inference (purpose=scoring): no labels were read, so nothing trains on it."""
        return (self.schema or {}).get("purpose") == "scoring"


@dataclass(frozen=True)
class JobView:
    id: str
    type: str
    kind: str
    model_name: str
    dataset: str
    dataset_version: int
    params: dict[str, Any]
    status: str
    queue: str
    progress: float
    epoch: int
    total_epochs: int
    metrics: dict[str, Any]
    error: str | None
    attempt: int
    worker: str | None
    created_at: str | None
    started_at: str | None
    finished_at: str | None
    heartbeat_at: str | None
    created_by: str | None
    version: int | None
    depends_on: str | None = None
    input_version: dict[str, Any] | None = None

    @classmethod
    def of(cls, job: Job, dataset_name: str, dataset_version: int, version: int | None,
           input_version: dict[str, Any] | None = None) -> JobView:
        return cls(
            id=job.id, type=job.type, kind=job.kind, model_name=job.model_name,
            dataset=dataset_name, dataset_version=dataset_version, params=job.params,
            status=job.status, queue=job.queue, progress=job.progress, epoch=job.epoch,
            total_epochs=job.total_epochs, metrics=job.metrics or {}, error=job.error,
            attempt=job.attempt, worker=job.worker, created_at=_iso(job.created_at),
            started_at=_iso(job.started_at), finished_at=_iso(job.finished_at),
            heartbeat_at=_iso(job.heartbeat_at), created_by=job.created_by, version=version,
            depends_on=job.depends_on_job_id, input_version=input_version,
        )

    @property
    def duration_s(self) -> float | None:
        """Seconds from start to finish (of the last attempt), when both are known."""
        if not (self.started_at and self.finished_at):
            return None
        return (datetime.fromisoformat(self.finished_at.replace("Z", "+00:00"))
                - datetime.fromisoformat(self.started_at.replace("Z", "+00:00"))).total_seconds()

    @property
    def done(self) -> bool:
        return self.status in FINISHED

    def to_dict(self) -> dict[str, Any]:
        # Shallow on purpose: asdict() deep-copies params and metrics on every poll.
        return {f.name: getattr(self, f.name) for f in fields(self)}


@dataclass(frozen=True)
class ArtifactView:
    name: str
    path: str
    size_bytes: int
    sha256: str
    content_type: str

    @classmethod
    def of(cls, a: Artifact) -> ArtifactView:
        return cls(a.name, a.path, a.size_bytes, a.sha256, a.content_type)

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "size_bytes": self.size_bytes, "sha256": self.sha256,
                "content_type": self.content_type}


@dataclass(frozen=True)
class VersionView:
    model_name: str
    version: int
    kind: str
    job_id: str | None
    dataset: str
    dataset_version: int
    dataset_sha256: str
    params: dict[str, Any]
    metrics: dict[str, Any]
    framework: dict[str, Any]
    created_at: str | None
    created_by: str | None
    artifacts: tuple[ArtifactView, ...]
    parent: dict[str, Any] | None = None  # lineage: the version this one was built on
    children: tuple[dict[str, Any], ...] = ()  # live versions built on this one
    archived_at: str | None = None

    @classmethod
    def of(cls, model_name: str, v: ModelVersion, dataset: Dataset, artifacts: list[Artifact],
           parent: dict[str, Any] | None = None,
           children: tuple[dict[str, Any], ...] = ()) -> VersionView:
        return cls(model_name, v.version, v.kind, v.job_id, dataset.name, dataset.version,
                   v.dataset_sha256, v.params, v.metrics, v.framework, _iso(v.created_at),
                   v.created_by, tuple(ArtifactView.of(a) for a in artifacts), parent, children,
                   _iso(v.archived_at))

    def artifact(self, name: str) -> ArtifactView | None:
        return next((a for a in self.artifacts if a.name == name), None)

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["artifacts"] = [a.to_dict() for a in self.artifacts]
        out["children"] = list(self.children)
        return out
