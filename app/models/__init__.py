"""Database tables. ("models" here means tables; trained things are "model versions".)"""
from app.models.alias import AliasHistory, ModelAlias
from app.models.base import Base, utcnow
from app.models.dataset import Dataset
from app.models.job import Job, JobEvent
from app.models.ops import Webhook, WebhookDelivery, WorkerRow
from app.models.registry import Artifact, ModelVersion, RegisteredModel

__all__ = ["AliasHistory", "Artifact", "Base", "Dataset", "Job", "JobEvent", "ModelAlias", "ModelVersion",
           "RegisteredModel", "Webhook", "WebhookDelivery", "WorkerRow", "utcnow"]
