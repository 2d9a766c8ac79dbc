"""Load a version's model.keras (checksum verified, safe mode) and predict."""
from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Any

from app.domain.errors import TamperedArtifact
from app.storage import ArtifactStore, Tampered, fingerprint
from app.storage.checked import Fingerprint


class ModelCache:
    """A few loaded models per serve process (LRU), keyed by the file's path and recorded sha256.

    Each keeps the fingerprint of the file it was verified from; when the file changes under it (any
    write moves its ctime) it is checked again before the next answer, and refused if it fails.
    """

    def __init__(self, size: int = 4) -> None:
        self.size = size
        self._models: OrderedDict[tuple[str, str], tuple[Any, Fingerprint]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, store: ArtifactStore, rel: str, sha256: str, loader: str = "keras") -> Any:
        """The loaded model of the file ``rel``; a file failing its checksum is refused (409), never loaded.

        ``loader`` is "keras" (model.keras, safe mode) or "vectors" (vectors.txt, word vectors as plain text).
        """
        key = (rel, sha256)
        with self._lock:
            cached = self._models.get(key)
            if cached is not None:
                self._models.move_to_end(key)
        now = fingerprint(store.local(rel))  # taken before hashing: a write during it shows next time
        if cached is not None and cached[1] == now:
            return cached[0]
        try:
            path = store.verified(rel, sha256)
        except Tampered as exc:
            with self._lock:
                self._models.pop(key, None)
            raise TamperedArtifact(f"{exc}: refusing to load it", rel) from None
        model = cached[0] if cached is not None else _load(path, loader)  # same bytes, same model
        with self._lock:
            self._models[key] = (model, now)
            while len(self._models) > self.size:
                self._models.popitem(last=False)
        return model


def _load(path, loader: str) -> Any:
    """Load a verified file: Keras in safe mode, or plain-text word vectors."""
    if loader == "vectors":
        from gensim.models import KeyedVectors  # plain text: nothing user-made is ever unpickled

        return KeyedVectors.load_word2vec_format(str(path), binary=False)
    import keras  # imported by the serve process at start (app/serve/state.py warms it)

    return keras.models.load_model(path, safe_mode=True)


def predict(model: Any, x, class_names: list[str]) -> list[dict[str, Any]]:
    """Label and class probabilities for each instance."""
    return labelled(probabilities(model, x), class_names)


def probabilities(model: Any, x):
    """The model's output for a batch of instances (what the serve process's batcher runs)."""
    import numpy as np

    if x.dtype == object:
        import tensorflow as tf

        x = tf.constant(x.tolist(), dtype=tf.string)
    return np.asarray(model.predict_on_batch(x))  # one batch (instances are capped): no per-call pipeline


def labelled(probs, class_names: list[str]) -> list[dict[str, Any]]:
    """Each row of probabilities as its label and the named probabilities."""
    import numpy as np

    out = []
    for row in probs:
        best = int(np.argmax(row))
        out.append({"label": class_names[best] if best < len(class_names) else str(best),
                    "probabilities": {(class_names[i] if i < len(class_names) else str(i)): round(float(p), 6)
                                      for i, p in enumerate(row)}})
    return out


def words_answer(kv: Any, body: dict[str, Any], max_words: int) -> dict[str, Any]:
    """``{"most_similar": [words], "topn": n}`` and/or ``{"vectors": [words]}`` against loaded vectors."""
    from app.serve.inputs import BadInstances, over_limit

    queries = {k: body.get(k) for k in ("most_similar", "vectors") if body.get(k) is not None}
    if not queries:
        raise BadInstances({"most_similar": "a word-vectors model answers most_similar and/or vectors: lists of words"})
    topn = body.get("topn", 10)
    if isinstance(topn, bool) or not isinstance(topn, int) or not 1 <= topn <= 100:
        raise BadInstances({"topn": "a whole number from 1 to 100"})
    out: dict[str, Any] = {}
    for field, words in queries.items():
        if not isinstance(words, list) or not words:
            raise BadInstances({field: "a non-empty list of words"})
        over_limit(field, len(words), max_words, "words")
        for i, word in enumerate(words):
            if not isinstance(word, str) or not word:
                raise BadInstances({f"{field}[{i}]": "must be a non-empty string"})
            if word not in kv.key_to_index:
                raise BadInstances({f"{field}[{i}]": f"{word[:60]!r} is not in the vocabulary"})
        if field == "most_similar":
            out[field] = {w: [{"word": o, "similarity": round(float(sim), 6)} for o, sim in
                              kv.most_similar(w, topn=topn)] for w in words}
        else:
            out[field] = {w: [round(float(v), 6) for v in kv[w]] for w in words}
    return out
