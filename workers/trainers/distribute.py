"""Training one job on several GPUs of one host with tf.distribute.MirroredStrategy.

Variables are created where the model is built (inside each trainer), so the whole
trainer call runs inside the strategy's scope; with one GPU or none, nothing changes.
"""
from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from typing import TypeVar

log = logging.getLogger(__name__)
T = TypeVar("T")


def distributed(trainer: Callable[..., T], gpus: int) -> Callable[..., T]:
    """``trainer`` run under a MirroredStrategy over the visible GPUs when the job asked for 2+."""
    if gpus <= 1:
        return trainer

    @functools.wraps(trainer)
    def run(*args, **kwargs) -> T:
        import tensorflow as tf

        visible = tf.config.list_logical_devices("GPU")
        strategy = tf.distribute.MirroredStrategy([d.name for d in visible[:gpus]] or None)
        log.info("training on %d replicas (%s)", strategy.num_replicas_in_sync, ", ".join(d.name for d in visible))
        with strategy.scope():
            return trainer(*args, **kwargs)

    return run
