"""The spec side of a kind: importable without TensorFlow, read by the web, the API and the workers."""
from app.domain.params import Param
from app.kinds.common import (
    BATCH_SIZE,
    DROPOUT,
    EMBEDDING_DIM,
    EPOCHS,
    KERAS_EPOCH_METRICS,
    L2,
    LEARNING_RATE,
    MAX_TOKENS,
    PATIENCE,
    SEED,
    SEQUENCE_LENGTH,
    VALIDATION_SPLIT,
)
from app.kinds.spec import Input, KindSpec, Stage

# What TrainContext.fit and TrainContext.split read: declare them (or your own with these names).
TRAINING_PARAMS = (EPOCHS, BATCH_SIZE, LEARNING_RATE, VALIDATION_SPLIT, PATIENCE, SEED)

# What ctx.fit reports at each epoch's end (the metrics a sweep may optimise): KindSpec(epoch_metrics=...).
__all__ = ["BATCH_SIZE", "DROPOUT", "EMBEDDING_DIM", "EPOCHS", "KERAS_EPOCH_METRICS", "L2", "LEARNING_RATE",
           "MAX_TOKENS", "PATIENCE", "SEED", "SEQUENCE_LENGTH", "TRAINING_PARAMS", "VALIDATION_SPLIT", "Input",
           "KindSpec", "Param", "Stage"]
