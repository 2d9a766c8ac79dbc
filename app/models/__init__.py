"""Database tables. ("models" here means tables; trained things are "model versions".)"""
from app.models.alias import AliasHistory, ModelAlias
from app.models.auth import ApiToken, AuditEntry, User
from app.models.base import Base, utcnow
from app.models.dataset import Dataset
from app.models.job import Job, JobEvent
from app.models.ops import Webhook, WebhookDelivery, WorkerRow
from app.models.output import JobOutput
from app.models.registry import Artifact, ModelVersion, RegisteredModel
from app.models.schedule import Schedule, ScheduleRun
from app.models.sweep import Sweep, SweepTrial

__all__ = ["AliasHistory", "ApiToken", "Artifact", "AuditEntry", "Base", "Dataset", "Job", "JobEvent", "JobOutput",
           "ModelAlias", "ModelVersion", "RegisteredModel", "Schedule", "ScheduleRun", "Sweep", "SweepTrial", "User",
           "Webhook", "WebhookDelivery", "WorkerRow", "utcnow"]
