"""Load a version's model.keras (checksum verified, safe mode) and predict."""
from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Any

from app.domain.errors import Conflict
from app.storage import ArtifactStore, Tampered


class ModelCache:
    """A few loaded models per web process (LRU), keyed by the file's path and recorded sha256."""

    def __init__(self, size: int = 4) -> None:
        self.size = size
        self._models: OrderedDict[tuple[str, str], Any] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, store: ArtifactStore, rel: str, sha256: str) -> Any:
        """The loaded model of the file ``rel``; a file failing its checksum is refused (409), never loaded."""
        key = (rel, sha256)
        with self._lock:
            if key in self._models:
                self._models.move_to_end(key)
                return self._models[key]
        try:
            path = store.verified(rel, sha256)
        except Tampered as exc:
            raise Conflict(f"{exc}: refusing to load it") from None
        import keras  # first prediction only: the web process does not import TensorFlow at start-up

        model = keras.models.load_model(path, safe_mode=True)
        with self._lock:
            self._models[key] = model
            while len(self._models) > self.size:
                self._models.popitem(last=False)
        return model


def predict(model: Any, x, class_names: list[str]) -> list[dict[str, Any]]:
    """Label and class probabilities for each instance."""
    import numpy as np

    if x.dtype == object:
        import tensorflow as tf

        x = tf.constant(x.tolist(), dtype=tf.string)
    probs = model.predict(x, verbose=0)
    out = []
    for row in probs:
        best = int(np.argmax(row))
        out.append({"label": class_names[best] if best < len(class_names) else str(best),
                    "probabilities": {(class_names[i] if i < len(class_names) else str(i)): round(float(p), 6)
                                      for i, p in enumerate(row)}})
    return out
