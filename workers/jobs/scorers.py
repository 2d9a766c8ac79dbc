"""Batch inference's input and scoring: the job's rows in chunks, and a scorer from a chunk to an Arrow table.

The scorer is built once per job from the version the claim named (files verified against their
sha256), importing Keras or gensim only here.
"""
from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np

from app.data.load import load_dataset
from app.kinds import Input
from app.services.claims import ClaimedJob
from app.services.views import VersionView
from app.storage import ArtifactStore
from workers.jobs import scoring
from workers.jobs.scoring_parquet import parquet_chunks

PREDICT_BATCH = 8192


def keras_scorer(store: ArtifactStore, version: VersionView):
    """Class probabilities and the best label of each row, from the version's model.keras (safe mode)."""
    import keras
    import pyarrow as pa

    artifact = version.artifact("model.keras")
    model = keras.models.load_model(store.verified(artifact.path, artifact.sha256), safe_mode=True)
    classes = [str(c) for c in version.metrics.get("class_names", [])]

    def score(chunk: scoring.Chunk):
        x = chunk.x
        if len(chunk.ids) == 0:
            probs = np.zeros((0, len(classes)), dtype=np.float32)
        else:
            if x.dtype == object:
                import tensorflow as tf

                x = tf.constant(x.tolist(), dtype=tf.string)
            probs = np.concatenate([np.asarray(model.predict_on_batch(x[i:i + PREDICT_BATCH]))
                                    for i in range(0, len(chunk.ids), PREDICT_BATCH)])
        best = probs.argmax(axis=1) if len(probs) else np.zeros(0, dtype=np.int64)
        columns: dict[str, Any] = {"row_id": pa.array(np.asarray(chunk.ids, dtype=np.int64))}
        if chunk.keys is not None:
            columns["key"] = chunk.keys if isinstance(chunk.keys, pa.Array) else pa.array(chunk.keys, pa.string())
        columns["label"] = pa.array(np.array(classes, dtype=object)[best] if len(best) else [], type=pa.string())
        for i, name in enumerate(classes):
            columns[f"p_{name}"] = pa.array(probs[:, i].astype(np.float32))
        return pa.table(columns)

    return score


def words_scorer(store: ArtifactStore, version: VersionView, p: dict[str, Any]):
    """Neighbours or vectors of each word, from vectors.txt (plain text: nothing is unpickled)."""
    import pyarrow as pa
    from gensim.models import KeyedVectors

    artifact = version.artifact("vectors.txt")
    kv = KeyedVectors.load_word2vec_format(str(store.verified(artifact.path, artifact.sha256)), binary=False)
    topn = int(p.get("topn", 10))

    def score(chunk: scoring.Chunk):
        ids, words, ranks, neighbours, sims, vectors = [], [], [], [], [], []
        for row_id, word in zip(chunk.ids, chunk.x, strict=True):
            if word not in kv.key_to_index:
                chunk.errors.append((row_id, f"{word!r} is not in the vocabulary"))
                continue
            if p.get("mode") == "vectors":
                ids.append(row_id)
                words.append(word)
                vectors.append(kv[word])
                continue
            for rank, (other, sim) in enumerate(kv.most_similar(word, topn=topn), start=1):
                ids.append(row_id)
                words.append(word)
                ranks.append(rank)
                neighbours.append(other)
                sims.append(sim)
        columns: dict[str, Any] = {"row_id": pa.array(ids, type=pa.int64()), "word": pa.array(words, pa.string())}
        if p.get("mode") == "vectors":
            matrix = np.array(vectors, dtype=np.float32).reshape(-1, kv.vector_size)
            for i in range(kv.vector_size):
                columns[f"v{i}"] = pa.array(matrix[:, i])
        else:
            columns.update(rank=pa.array(ranks, pa.int32()), neighbour=pa.array(neighbours, pa.string()),
                           similarity=pa.array(sims, pa.float32()))
        return pa.table(columns)

    return score


def total_rows(claimed: ClaimedJob) -> int:
    """How many rows (or words) the job scores, for its progress."""
    if claimed.params.get("words"):
        return len(claimed.params["words"])
    return int(claimed.dataset_schema.get("rows") or 0)


def chunks_of(store: ArtifactStore, claimed: ClaimedJob, takes: Input | None,
              p: dict[str, Any]) -> Iterator[scoring.Chunk]:
    """The job's input in chunks: words, a tabular or text file streamed, or a dataset in memory."""
    size = int(p["chunk_rows"])
    if takes is Input.WORDS:
        words = p.get("words") or _corpus_words(store, claimed)
        yield from scoring.memory_chunks(np.array(words, dtype=object), size)
        return
    path = store.verified(claimed.dataset_path, claimed.dataset_sha256) if claimed.dataset_path else None
    fmt = claimed.dataset_schema.get("format", "csv")
    if path is not None and claimed.dataset_kind == "tabular" and fmt == "csv":
        yield from scoring.tabular_chunks(path, claimed.dataset_schema, p["features"], p.get("key_column"), size)
    elif path is not None and claimed.dataset_kind == "tabular" and fmt == "parquet":
        yield from parquet_chunks(path, p["features"], p.get("key_column"), size)
    elif path is not None and claimed.dataset_kind == "text":
        yield from scoring.text_chunks(path, claimed.dataset_schema, size)
    else:  # built-ins, image archives and JSON Lines tables: in memory
        data = load_dataset(claimed.dataset_kind, claimed.dataset_source, path, claimed.dataset_schema)
        x = np.array(data.texts, dtype=object).reshape(-1, 1) if hasattr(data, "texts") else data.X
        if hasattr(data, "feature_names") and p.get("features") and path is not None:
            x = x[:, [data.feature_names.index(f) for f in p["features"]]]
        yield from scoring.memory_chunks(x, size)


def _corpus_words(store: ArtifactStore, claimed: ClaimedJob) -> list[str]:
    path = store.verified(claimed.dataset_path, claimed.dataset_sha256) if claimed.dataset_path else None
    data = load_dataset(claimed.dataset_kind, claimed.dataset_source, path, claimed.dataset_schema)
    seen: dict[str, None] = {}
    for doc in data.documents:
        for word in doc.lower().split():
            seen.setdefault(word, None)
    return list(seen)
