"""The trainer side of a kind: ``def train(ctx: TrainContext) -> None``, imported by workers only."""
from workers.trainers.base import Cancelled, Fenced, HandBack, Stop, TimeLimit
from workers.trainers.checkpointing import Restored
from workers.trainers.context import TrainContext

__all__ = ["Cancelled", "Fenced", "HandBack", "Restored", "Stop", "TimeLimit", "TrainContext"]
