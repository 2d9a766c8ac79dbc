"""Runs one batch-inference job: score a dataset chunk by chunk, resumably, into CSV and Parquet.

Each chunk's predictions go to a Parquet part under ``batch/<job>/`` and its bad rows to
an errors part; a manifest written after them says how many chunks are done, so a retried
attempt skips straight to the first unfinished chunk. Outputs are deterministic (same rows,
same version), so a part written twice is written the same. At the end the parts are
streamed into predictions.csv, predictions.parquet, errors.csv and summary.json, published
under the attempt's folder and recorded with the job in one transaction.
"""
from __future__ import annotations

import csv
import json
import logging
import threading
import time
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np

from app.data import scoring
from app.data.load import load_dataset
from app.domain.status import JobStatus
from app.kinds import Input, input_of
from app.runtime import Runtime
from app.services import batch, registry
from app.services.claims import ClaimedJob
from workers.joblog import job_log
from workers.lease import Lease
from workers.trainers import Progress
from workers.trainers.base import Fenced

log = logging.getLogger(__name__)
PREDICT_BATCH = 8192


def rss_mb() -> float:
    """Resident memory of this process now (Linux), in MiB."""
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


class Manifest:
    """How far a job got: chunks done and the running totals, kept in the store between attempts."""

    def __init__(self, rt: Runtime, job_id: str, scratch: Path) -> None:
        self.rt, self.folder, self.scratch = rt, f"batch/{job_id}", scratch
        rel = f"{self.folder}/manifest.json"
        self.state: dict[str, Any] = {"done": 0, "rows": 0, "scored": 0, "errors": 0, "labels": {}, "parts": []}
        if rt.store.exists(rel):
            with rt.store.open(rel) as fh:
                self.state = json.loads(fh.read())

    def save(self) -> None:
        tmp = self.scratch / "manifest.json"
        tmp.write_text(json.dumps(self.state))
        self.rt.store.publish(tmp, f"{self.folder}/manifest.json")

    def add_part(self, local: Path, name: str) -> dict[str, str]:
        stored = self.rt.store.publish(local, f"{self.folder}/{name}")
        local.unlink(missing_ok=True)
        return {"path": stored.path, "sha256": stored.sha256}


def run_infer(rt: Runtime, claimed: ClaimedJob, lease: Lease, report, scratch: Path) -> str:
    p = claimed.params
    with rt.session() as session:
        version = registry.get_version_by_id(session, claimed.input_version_id)
    started, rss_start = time.monotonic(), rss_mb()
    manifest = Manifest(rt, claimed.id, scratch)
    state = manifest.state
    resumed = state["done"]
    if resumed:
        log.info("job %s: resuming after %d finished chunks", claimed.id, resumed)
    takes = input_of(version.kind)
    words = takes is Input.WORDS
    scorer = _word2vec_scorer(rt, version, p) if words else _keras_scorer(rt, version)
    total = _total_rows(claimed)
    job_log(rt, claimed, f"scoring {total:,} rows of {p.get('dataset') or 'the given words'} with "
                         f"{claimed.model_name} v{version.version} in chunks of {p['chunk_rows']:,}"
                         + (f"; resuming after {resumed} finished chunks" if resumed else ""))
    outputs = Outputs(scratch)
    for part in sorted(state["parts"], key=lambda part: part["index"]):  # an earlier attempt's chunks
        outputs.add_part(rt, part)
    loop_started = time.monotonic()
    phases = dict.fromkeys(("read", "score", "write", "keep"), 0.0)  # busy seconds per stage, in the summary

    def read(chunks: Iterator[scoring.Chunk]) -> scoring.Chunk | None:
        since = time.monotonic()
        chunk = next(chunks, None)
        _lap(phases, "read", since)
        return chunk

    def write(chunk: scoring.Chunk, table) -> None:
        since = time.monotonic()
        outputs.add(table, chunk.errors)
        since = _lap(phases, "write", since)
        _store_chunk(chunk, table, manifest, scratch, words=words)
        report(Progress(epoch=0, total_epochs=0, fraction=min(state["rows"] / total, 0.99) if total else 0.0,
                        metrics={"rows_done": state["rows"], "rows_total": total, "errors": state["errors"]}))
        _lap(phases, "keep", since)

    # Three stages overlap: the next chunk is read and the last one written while this one is scored
    # (Arrow, TensorFlow and the Parquet/CSV writers release the GIL). One chunk per stage at most,
    # and writes stay in chunk order, so memory stays flat and the manifest stays a prefix.
    chunks = _chunks(rt, claimed, takes, p)
    with PeakMemory() as memory, ThreadPoolExecutor(1, "batch-read") as reader, \
            ThreadPoolExecutor(1, "batch-write") as writer:
        next_chunk = reader.submit(read, chunks)
        written: Future | None = None
        while (chunk := next_chunk.result()) is not None:
            next_chunk = reader.submit(read, chunks)
            if chunk.index < state["done"]:
                continue  # finished by an earlier attempt
            lease.check()
            scoring_started = time.monotonic()
            table = scorer(chunk)
            _lap(phases, "score", scoring_started)
            if written is not None:
                written.result()  # the previous chunk is kept (and its errors raised) before the next
            written = writer.submit(write, chunk, table)
        if written is not None:
            written.result()
    lease.check()
    loop = time.monotonic() - loop_started
    new_rows = state["rows"] - sum(part.get("rows", 0) for part in state["parts"] if part["index"] < resumed)
    elapsed = time.monotonic() - started
    summary = {"rows": state["rows"], "scored": state["scored"], "errors": state["errors"],
               "label_distribution": dict(sorted(state["labels"].items())),
               "model_name": claimed.model_name, "model_version": version.version,
               "resolved_from": p.get("resolved_from"), "dataset": p.get("dataset"),
               "elapsed_s": round(elapsed, 3), "rows_per_s": round(state["rows"] / elapsed, 1) if elapsed else None,
               "scoring_rows_per_s": round(new_rows / loop, 1) if loop else None,
               "peak_rss_mb": round(max(memory.peak, rss_start), 1), "rss_at_start_mb": round(rss_start, 1),
               "resumed_after_chunks": resumed, "chunk_rows": p.get("chunk_rows"),
               "phase_s": {k: round(v, 3) for k, v in phases.items()}}
    job_log(rt, claimed, f"scored {state['scored']:,} rows, {state['errors']:,} refused, in {elapsed:.1f} s; "
                         "publishing the outputs")
    files = outputs.close(summary)
    folder = f"artifacts/{claimed.id}/a{claimed.attempt}"
    stored = [rt.store.publish(path, f"{folder}/{path.name}") for path in files]
    with rt.session() as session:
        if not batch.finish_infer(session, claimed.id, claimed.attempt, stored, summary):
            raise Fenced(f"job {claimed.id} attempt {claimed.attempt} lost the job before finishing")
    rt.store.remove_tree(f"batch/{claimed.id}")
    return JobStatus.SUCCEEDED


def _lap(phases: dict[str, float], name: str, since: float) -> float:
    """Add the seconds since ``since`` to ``phases[name]``; returns now."""
    now = time.monotonic()
    phases[name] += now - since
    return now


def _store_chunk(chunk: scoring.Chunk, table, manifest: Manifest, scratch: Path, words: bool) -> None:
    """Keep the chunk's parts in the store for a retry, then (last) the manifest that counts it as done."""
    import pyarrow.compute as pc

    state = manifest.state
    part = scratch / f"part-{chunk.index:05d}.parquet"
    _write_parquet(table, part)
    errors = scratch / f"errors-{chunk.index:05d}.csv"
    with open(errors, "w", newline="") as fh:
        csv.writer(fh).writerows(chunk.errors)
    state["parts"].append({"index": chunk.index, "rows": chunk.rows, "predictions": manifest.add_part(part, part.name),
                           "errors": manifest.add_part(errors, errors.name)})
    state["rows"] += chunk.rows
    state["scored"] += len(chunk.ids) - len(chunk.errors) if words else table.num_rows
    state["errors"] += len(chunk.errors)
    if "label" in table.column_names and table.num_rows:
        for item in pc.value_counts(table.column("label")).to_pylist():
            state["labels"][item["values"]] = state["labels"].get(item["values"], 0) + item["counts"]
    state["done"] = chunk.index + 1
    manifest.save()


class Outputs:
    """predictions.csv, predictions.parquet and errors.csv, written as chunks arrive, in chunk order."""

    def __init__(self, scratch: Path) -> None:
        self.scratch = scratch
        self.csv_path, self.parquet_path = scratch / "predictions.csv", scratch / "predictions.parquet"
        self.errors_path = scratch / "errors.csv"
        self._errors_fh = open(self.errors_path, "w", newline="")
        self._errors = csv.writer(self._errors_fh)
        self._errors.writerow(["row_id", "reason"])
        self._csv = self._parquet = None

    def add(self, table, errors: list[tuple[int, str]]) -> None:
        import pyarrow.csv as pacsv
        import pyarrow.parquet as pq

        if self._parquet is None:
            self._parquet = pq.ParquetWriter(self.parquet_path, table.schema)
            self._csv = pacsv.CSVWriter(str(self.csv_path), table.schema)
        self._parquet.write_table(table)
        self._csv.write_table(table)
        self._errors.writerows(errors)

    def add_part(self, rt: Runtime, part: dict[str, Any]) -> None:
        """A chunk finished by an earlier attempt, read back from the store (checksums verified)."""
        import pyarrow.parquet as pq

        table = pq.read_table(rt.store.verified(part["predictions"]["path"], part["predictions"]["sha256"]))
        with open(rt.store.verified(part["errors"]["path"], part["errors"]["sha256"]), newline="") as fh:
            errors = [(int(row_id), reason) for row_id, reason in csv.reader(fh)]
        self.add(table, errors)

    def close(self, summary: dict[str, Any]) -> list[Path]:
        import pyarrow as pa
        import pyarrow.parquet as pq

        self._errors_fh.close()
        if self._parquet is not None:
            self._parquet.close()
            self._csv.close()
        else:  # nothing to score: still leave the files a user expects
            self.csv_path.write_text("row_id,label\n")
            pq.write_table(pa.table({"row_id": pa.array([], pa.int64())}), self.parquet_path)
        summary_path = self.scratch / "summary.json"
        summary_path.write_text(json.dumps(summary, indent=2))
        return [self.csv_path, self.parquet_path, self.errors_path, summary_path]


class PeakMemory:
    """Samples this process's resident memory every 20 ms while the block runs."""

    def __init__(self) -> None:
        self.peak = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, rss_mb())
            self._stop.wait(0.02)

    def __enter__(self) -> PeakMemory:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, rss_mb())


def _total_rows(claimed: ClaimedJob) -> int:
    if claimed.params.get("words"):
        return len(claimed.params["words"])
    return int(claimed.dataset_schema.get("rows") or 0)


def _chunks(rt: Runtime, claimed: ClaimedJob, takes: Input | None, p: dict[str, Any]) -> Iterator[scoring.Chunk]:
    size = int(p["chunk_rows"])
    if takes is Input.WORDS:
        words = p.get("words") or _corpus_words(rt, claimed)
        yield from scoring.memory_chunks(np.array(words, dtype=object), size)
        return
    path = rt.store.verified(claimed.dataset_path, claimed.dataset_sha256) if claimed.dataset_path else None
    if path is not None and claimed.dataset_kind == "tabular":
        yield from scoring.tabular_chunks(path, claimed.dataset_schema, p["features"], p.get("key_column"), size)
    elif path is not None and claimed.dataset_kind == "text":
        yield from scoring.text_chunks(path, claimed.dataset_schema, size)
    else:  # built-ins and image archives: in memory
        data = load_dataset(claimed.dataset_kind, claimed.dataset_source, path, claimed.dataset_schema)
        x = np.array(data.texts, dtype=object).reshape(-1, 1) if hasattr(data, "texts") else data.X
        yield from scoring.memory_chunks(x, size)


def _corpus_words(rt: Runtime, claimed: ClaimedJob) -> list[str]:
    path = rt.store.verified(claimed.dataset_path, claimed.dataset_sha256) if claimed.dataset_path else None
    data = load_dataset(claimed.dataset_kind, claimed.dataset_source, path, claimed.dataset_schema)
    seen: dict[str, None] = {}
    for doc in data.documents:
        for word in doc.lower().split():
            seen.setdefault(word, None)
    return list(seen)


def _keras_scorer(rt: Runtime, version):
    import keras
    import pyarrow as pa

    artifact = version.artifact("model.keras")
    model = keras.models.load_model(rt.store.verified(artifact.path, artifact.sha256), safe_mode=True)
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


def _word2vec_scorer(rt: Runtime, version, p: dict[str, Any]):
    """Neighbours or vectors of each word, from vectors.txt (plain text: nothing is unpickled)."""
    import pyarrow as pa
    from gensim.models import KeyedVectors

    artifact = version.artifact("vectors.txt")
    kv = KeyedVectors.load_word2vec_format(str(rt.store.verified(artifact.path, artifact.sha256)), binary=False)
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


def _write_parquet(table, path: Path) -> None:
    import pyarrow.parquet as pq

    pq.write_table(table, path)
