"""Built-in datasets that ship inside installed packages, so nothing is downloaded.

The worker loads them to train; the seeding command loads them once to record
their sha256, rows and schema in the dataset registry.
"""
from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class TabularData:
    X: np.ndarray
    y: np.ndarray
    feature_names: list[str]
    class_names: list[str]

    def fingerprint(self) -> str:
        """A sha256 over the arrays, stable across runs and machines."""
        digest = hashlib.sha256()
        digest.update(np.ascontiguousarray(self.X, dtype=np.float64).tobytes())
        digest.update(np.ascontiguousarray(self.y, dtype=np.int64).tobytes())
        return digest.hexdigest()

    def schema(self) -> dict:
        return {
            "features": [{"name": n, "type": "number"} for n in self.feature_names],
            "label": {"name": "label", "classes": self.class_names},
        }


@dataclass(frozen=True)
class BuiltinDataset:
    name: str
    kind: str
    source: str
    description: str
    loader: Callable[[], TabularData]


def _sklearn(loader_name: str) -> Callable[[], TabularData]:
    def load() -> TabularData:
        from sklearn import datasets  # imported lazily: the web process never needs it

        bunch = getattr(datasets, loader_name)()
        feature_names = [str(n) for n in getattr(bunch, "feature_names", [])] or [
            f"x{i}" for i in range(bunch.data.shape[1])
        ]
        class_names = [str(n) for n in bunch.target_names]
        return TabularData(bunch.data.astype(np.float32), bunch.target.astype(np.int64),
                           feature_names, class_names)

    return load


BUILTINS: dict[str, BuiltinDataset] = {
    d.name: d
    for d in (
        BuiltinDataset("digits", "tabular", "builtin:sklearn.digits",
                       "8x8 handwritten digits as 64 pixel features, 10 classes (1,797 rows).",
                       _sklearn("load_digits")),
        BuiltinDataset("iris", "tabular", "builtin:sklearn.iris",
                       "Iris flowers, 4 features, 3 classes (150 rows).", _sklearn("load_iris")),
        BuiltinDataset("wine", "tabular", "builtin:sklearn.wine",
                       "Wine cultivars, 13 features, 3 classes (178 rows).", _sklearn("load_wine")),
        BuiltinDataset("breast_cancer", "tabular", "builtin:sklearn.breast_cancer",
                       "Breast cancer diagnosis, 30 features, 2 classes (569 rows).",
                       _sklearn("load_breast_cancer")),
    )
}


def load_source(source: str) -> TabularData:
    """Load a dataset by its registry ``source`` string."""
    for builtin in BUILTINS.values():
        if builtin.source == source:
            return builtin.loader()
    raise KeyError(source)


HOLDOUT_SEED = 0
HOLDOUT_FRACTION = 0.2


def holdout_split(data: TabularData):
    """(X_train, X_test, y_train, y_test): the same held-out rows for every job on this data.

    Fixed, not the job's seed, so versions of a model are compared on the same test rows.
    """
    from sklearn.model_selection import train_test_split

    return train_test_split(data.X, data.y, test_size=HOLDOUT_FRACTION, random_state=HOLDOUT_SEED,
                            stratify=data.y)
