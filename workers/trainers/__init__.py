"""Trainer registry: model kind -> function that trains it. One module per kind.

A trainer knows TensorFlow or gensim and nothing about HTTP or the database: it
gets data, params, a progress callback and a folder, and returns metrics and files.
Frameworks are imported inside ``train`` so that importing this registry stays cheap.
"""
from __future__ import annotations

from collections.abc import Callable

from workers.trainers import cnn, hierarchical, mlp, rnn, text, word2vec
from workers.trainers.base import Fenced, Progress, TrainInput, TrainResult

TRAINERS: dict[str, Callable[[TrainInput], TrainResult]] = {
    "mlp": mlp.train,
    "cnn": cnn.train,
    "rnn": rnn.train,
    "text": text.train,
    "word2vec": word2vec.train,
    "hierarchical": hierarchical.train,
}

__all__ = ["TRAINERS", "Fenced", "Progress", "TrainInput", "TrainResult"]
