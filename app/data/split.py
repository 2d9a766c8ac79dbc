"""The train / validation / test split every job uses, recorded with each version.

The test rows depend only on the data (a fixed seed), so every version of a model
is compared on the same held-out rows; the validation rows follow the job's seed.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

HOLDOUT_SEED = 0
TEST_FRACTION = 0.2


@dataclass(frozen=True)
class Split:
    train: np.ndarray
    validation: np.ndarray
    test: np.ndarray

    def describe(self, seed: int, validation_fraction: float) -> dict:
        return {"test_fraction": TEST_FRACTION, "test_seed": HOLDOUT_SEED,
                "validation_fraction": validation_fraction, "validation_seed": seed,
                "stratified": True, "train_rows": len(self.train),
                "validation_rows": len(self.validation), "test_rows": len(self.test)}


def _stratify(y: np.ndarray) -> np.ndarray | None:
    """Stratify when every class has at least two rows; otherwise a plain shuffle."""
    _, counts = np.unique(y, return_counts=True)
    return y if counts.min() >= 2 else None


def split_indices(y: np.ndarray, seed: int, validation_fraction: float) -> Split:
    """Stratified (train, validation, test) row indices for labels ``y``."""
    from sklearn.model_selection import train_test_split

    idx = np.arange(len(y))
    rest, test = train_test_split(idx, test_size=TEST_FRACTION, random_state=HOLDOUT_SEED,
                                  stratify=_stratify(y))
    if validation_fraction <= 0:
        return Split(np.sort(rest), np.array([], dtype=np.int64), np.sort(test))
    train, val = train_test_split(rest, test_size=validation_fraction, random_state=seed,
                                  stratify=_stratify(y[rest]))
    return Split(train, val, np.sort(test))


def holdout_split(data):
    """(X_train, X_test, y_train, y_test) of the fixed held-out split: what tests and users evaluate on."""
    s = split_indices(data.y, seed=0, validation_fraction=0.0)
    return data.X[s.train], data.X[s.test], data.y[s.train], data.y[s.test]
