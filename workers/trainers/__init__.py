"""Trainer registry: model kind -> function that trains it. One module per kind.

A trainer knows TensorFlow or gensim and nothing about HTTP or the database: it
gets data, params, a progress callback and a folder, and returns metrics and files.
"""
from __future__ import annotations

from collections.abc import Callable

from workers.trainers import mlp
from workers.trainers.base import Fenced, Progress, TrainInput, TrainResult

TRAINERS: dict[str, Callable[[TrainInput], TrainResult]] = {
    "mlp": mlp.train,
}

__all__ = ["TRAINERS", "Fenced", "Progress", "TrainInput", "TrainResult"]
