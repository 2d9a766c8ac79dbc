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
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from app.domain.status import JobStatus
from app.kinds import Input, input_of
from app.runtime import Runtime
from app.services.claims import ClaimedJob
from app.services.usecases.claim import Claim
from app.services.usecases.finish import attempt_folder, finish_batch
from app.services.views import VersionView
from workers.jobs import scoring
from workers.jobs.joblog import job_log
from workers.jobs.lease import Lease
from workers.jobs.scorers import chunks_of, keras_scorer, total_rows, words_scorer
from workers.trainers import Progress
from workers.trainers.base import Fenced

log = logging.getLogger(__name__)


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


def run_infer(rt: Runtime, order: Claim, lease: Lease, report, scratch: Path) -> str:
    """Score the claimed job's input with the version the claim names, then finish (``finish_batch``)."""
    job, version = order.job, order.input_version
    assert version is not None  # a batch job records its version when it is submitted
    p = job.params
    started, rss_start = time.monotonic(), rss_mb()
    manifest = Manifest(rt, job.id, scratch)
    resumed = manifest.state["done"]
    if resumed:
        log.info("job %s: resuming after %d finished chunks", job.id, resumed)
    takes = input_of(version.kind)
    scorer = words_scorer(rt.store, version, p) if takes is Input.WORDS else keras_scorer(rt.store, version)
    total = total_rows(job)
    job_log(rt, job, f"scoring {total:,} rows of {p.get('dataset') or 'the given words'} with "
                     f"{job.model_name} v{version.version} in chunks of {p['chunk_rows']:,}"
                     + (f"; resuming after {resumed} finished chunks" if resumed else ""))
    outputs = Outputs(scratch)
    for part in sorted(manifest.state["parts"], key=lambda part: part["index"]):  # an earlier attempt's chunks
        outputs.add_part(rt, part)
    run = _score_chunks(rt, job, takes, scorer, manifest, outputs, lease, report, total)
    lease.check()
    summary = _summary(job, version, manifest.state, resumed, started, rss_start, run)
    job_log(rt, job, f"scored {summary['scored']:,} rows, {summary['errors']:,} refused, in "
                     f"{summary['elapsed_s']:.1f} s; publishing the outputs")
    files = outputs.close(summary)
    folder = attempt_folder(job.id, job.attempt)
    stored = [rt.store.publish(path, f"{folder}/{path.name}") for path in files]
    if not finish_batch(rt, job.id, job.attempt, stored, summary):
        raise Fenced(f"job {job.id} attempt {job.attempt} lost the job before finishing")
    rt.store.remove_tree(f"batch/{job.id}")
    return JobStatus.SUCCEEDED


@dataclass(frozen=True)
class _Run:
    loop_s: float  # seconds the scoring loop took
    phases: dict[str, float]  # busy seconds per stage
    peak_rss_mb: float


def _score_chunks(rt: Runtime, job: ClaimedJob, takes: Input | None, scorer, manifest: Manifest,
                  outputs: Outputs, lease: Lease, report, total: int) -> _Run:
    """Score every unfinished chunk, keeping each (parts, then the manifest) before the next is written.

    Three stages overlap: the next chunk is read and the last one written while this one is scored
    (Arrow, TensorFlow and the Parquet/CSV writers release the GIL). One chunk per stage at most,
    and writes stay in chunk order, so memory stays flat and the manifest stays a prefix.
    """
    state, words = manifest.state, takes is Input.WORDS
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
        _store_chunk(chunk, table, manifest, manifest.scratch, words=words)
        report(Progress(epoch=0, total_epochs=0, fraction=min(state["rows"] / total, 0.99) if total else 0.0,
                        metrics={"rows_done": state["rows"], "rows_total": total, "errors": state["errors"]}))
        _lap(phases, "keep", since)

    chunks = chunks_of(rt.store, job, takes, job.params)
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
    return _Run(time.monotonic() - loop_started, phases, memory.peak)


def _summary(job: ClaimedJob, version: VersionView, state: dict[str, Any], resumed: int, started: float,
             rss_start: float, run: _Run) -> dict[str, Any]:
    """summary.json, also the job's metrics: counts, labels, throughput, memory, time per stage."""
    p = job.params
    new_rows = state["rows"] - sum(part.get("rows", 0) for part in state["parts"] if part["index"] < resumed)
    elapsed = time.monotonic() - started
    return {"rows": state["rows"], "scored": state["scored"], "errors": state["errors"],
            "label_distribution": dict(sorted(state["labels"].items())),
            "model_name": job.model_name, "model_version": version.version,
            "resolved_from": p.get("resolved_from"), "dataset": p.get("dataset"),
            "elapsed_s": round(elapsed, 3), "rows_per_s": round(state["rows"] / elapsed, 1) if elapsed else None,
            "scoring_rows_per_s": round(new_rows / run.loop_s, 1) if run.loop_s else None,
            "peak_rss_mb": round(max(run.peak_rss_mb, rss_start), 1), "rss_at_start_mb": round(rss_start, 1),
            "resumed_after_chunks": resumed, "chunk_rows": p.get("chunk_rows"),
            "phase_s": {k: round(v, 3) for k, v in run.phases.items()}}


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


def _write_parquet(table, path: Path) -> None:
    import pyarrow.parquet as pq

    pq.write_table(table, path)
