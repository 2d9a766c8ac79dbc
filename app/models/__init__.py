"""Database tables. ("models" here means tables; trained things are "model versions".)"""
from app.models.base import Base, utcnow
from app.models.dataset import Dataset
from app.models.job import Job, JobEvent
from app.models.registry import Artifact, ModelVersion, RegisteredModel

__all__ = ["Artifact", "Base", "Dataset", "Job", "JobEvent", "ModelVersion", "RegisteredModel", "utcnow"]
