"""In-memory shapes of each dataset kind, as trainers receive them (numpy only)."""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any

import numpy as np

DATA_KINDS = ("tabular", "images", "text", "corpus")


@dataclass(frozen=True)
class TabularData:
    """Numeric feature rows with integer class labels (``class_names[y[i]]`` is row i's label)."""

    X: np.ndarray  # float32, (n, features)
    y: np.ndarray  # int64, (n,)
    feature_names: list[str]
    class_names: list[str]

    def fingerprint(self) -> str:
        """A sha256 over the arrays, stable across runs and machines."""
        digest = hashlib.sha256()
        digest.update(np.ascontiguousarray(self.X, dtype=np.float64).tobytes())
        digest.update(np.ascontiguousarray(self.y, dtype=np.int64).tobytes())
        return digest.hexdigest()

    def schema(self) -> dict[str, Any]:
        return {
            "features": [{"name": n, "type": "number"} for n in self.feature_names],
            "label": {"name": "label", "classes": self.class_names},
        }


@dataclass(frozen=True)
class ImageData:
    """Images with integer class labels."""

    X: np.ndarray  # float32, (n, height, width, channels)
    y: np.ndarray  # int64, (n,)
    class_names: list[str]

    def fingerprint(self) -> str:
        digest = hashlib.sha256()
        digest.update(str(self.X.shape).encode())
        digest.update(np.ascontiguousarray(self.X, dtype=np.float64).tobytes())
        digest.update(np.ascontiguousarray(self.y, dtype=np.int64).tobytes())
        return digest.hexdigest()

    def schema(self) -> dict[str, Any]:
        return {"image_shape": list(self.X.shape[1:]), "label": {"classes": self.class_names}}


@dataclass(frozen=True)
class TextData:
    """Raw texts with integer class labels; tokenising is the model's job (saved with it)."""

    texts: list[str]
    y: np.ndarray  # int64, (n,)
    class_names: list[str]

    def fingerprint(self) -> str:
        digest = hashlib.sha256()
        for text, label in zip(self.texts, self.y, strict=True):
            digest.update(text.encode("utf-8"))
            digest.update(b"\x1f" + str(int(label)).encode() + b"\x1e")
        return digest.hexdigest()

    def schema(self) -> dict[str, Any]:
        return {"text": {"name": "text"}, "label": {"name": "label", "classes": self.class_names}}


@dataclass(frozen=True)
class CorpusData:
    """Plain documents, one per line, for unsupervised embeddings."""

    documents: list[str] = field(default_factory=list)

    def fingerprint(self) -> str:
        digest = hashlib.sha256()
        for doc in self.documents:
            digest.update(doc.encode("utf-8") + b"\n")
        return digest.hexdigest()

    def schema(self) -> dict[str, Any]:
        return {"documents": len(self.documents)}
