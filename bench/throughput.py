"""(e) training throughput per kind: a platform job's samples/s against the same fit called directly.

Platform: submit a job through the API on the live stack and read ``samples_per_second``
(``words_per_second`` for word2vec) from the finished job's metrics; the trainer times
``model.fit`` (``Word2Vec.train``) itself, so only what runs during the fit counts: the
per-batch lease check and throttled progress writes, the per-epoch progress write and
checkpoint. Baseline: ``bench/direct_fit.py`` in a fresh process, the same trainer, params,
seed and data with a no-op report and no checkpoints. Both sides are warm: one untimed 1-epoch
job per kind first on the platform, an untimed 1-epoch fit first in each direct process
(``--warmup``). The two sides alternate, repeat by repeat.
"""
from __future__ import annotations

import json
import statistics
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from app.config import PROJECT_ROOT
from bench.report import Row
from bench.stack import Stack
from tests.support import learnable_texts

TEXT_ROWS = 2000
UPLOAD = "upload"  # stands for the generated text dataset, uploaded through the API


@dataclass(frozen=True)
class Case:
    """One kind, its dataset and params; ``metric`` is the throughput key in its metrics."""

    kind: str
    dataset: str
    params: dict[str, Any] = field(default_factory=dict)
    metric: str = "samples_per_second"


CASES = (
    Case("mlp", "digits", {"epochs": 20}),
    Case("cnn", "digits_images", {"epochs": 5}),
    Case("rnn", UPLOAD, {"epochs": 3}),
    Case("text", UPLOAD, {"epochs": 10}),
    Case("word2vec", "lee_background", {"epochs": 30}, "words_per_second"),
    Case("hierarchical", UPLOAD, {"epochs": 3, "corpus": "lee_background"}),
)


def upload_texts(stack: Stack) -> tuple[str, Path]:
    """Write the learnable text CSV, upload it; return (dataset reference, CSV path)."""
    path = stack.tmp / "bench-texts.csv"
    rows = learnable_texts(TEXT_ROWS)
    path.write_text("text,label\n" + "\n".join(f"{t},{label}" for t, label in rows) + "\n")
    resp = stack.http.post(f"{stack.base}/api/v1/datasets", params={"name": "bench-texts", "kind": "text"},
                           data=path.read_bytes(), headers={"Content-Type": "application/octet-stream"},
                           timeout=60)
    if resp.status_code != 201:
        raise RuntimeError(f"upload answered {resp.status_code}: {resp.text[:500]}")
    body = resp.json()
    return f"{body['name']}:{body['version']}", path


def platform_once(stack: Stack, case: Case, dataset: str, epochs: int | None = None) -> dict[str, Any]:
    """Metrics of one finished platform job (for hierarchical: the stage-2 job)."""
    params = {**case.params, "epochs": epochs or case.params["epochs"]}
    job = stack.submit({"kind": case.kind, "dataset": dataset, "model_name": f"bench-e-{case.kind}",
                        "params": params})
    return stack.wait_job(job["id"], interval=1.0)["metrics"]  # the worker times the fit: poll gently


def direct_once(stack: Stack, case: Case, csv: Path) -> dict[str, Any]:
    """Metrics printed by one fresh ``direct_fit.py`` process."""
    cmd = [sys.executable, str(PROJECT_ROOT / "bench" / "direct_fit.py"), case.kind, case.dataset,
           "--params", json.dumps(case.params), "--csv", str(csv), "--warmup"]
    proc = subprocess.run(cmd, cwd=PROJECT_ROOT, env=stack.env(), capture_output=True, text=True)
    if proc.returncode:
        raise RuntimeError(f"direct_fit.py {case.kind} exited {proc.returncode}:\n{proc.stderr[-2000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _note(case: Case, side: str, metrics: dict[str, Any]) -> float:
    """Log one fit's throughput, fit seconds and final loss (equal on both sides) to stderr."""
    value = float(metrics[case.metric])
    loss = metrics.get("final_loss", metrics.get("wordsim353_spearman"))
    print(f"  (e) {case.kind:12} {side:8} {case.metric}={value:,.0f} train_seconds={metrics['train_seconds']} "
          f"final_loss/spearman={loss if loss is None else round(loss, 6)}", file=sys.stderr, flush=True)
    return value


def run(stack: Stack, repeats: int) -> list[Row]:
    """Per kind, alternate platform and direct fits; report median throughputs (target ≥ 0.95x)."""
    if "worker" not in stack.procs:  # (d) stops it and leaves its jobs' messages queued: drop them
        r = stack.redis()
        for key in [*r.scan_iter("cpu*"), *r.scan_iter("gpu*")]:
            r.delete(key)
    stack.start_worker()
    ref, csv = upload_texts(stack)
    rows: list[Row] = []
    for case in CASES:
        dataset = ref if case.dataset == UPLOAD else case.dataset
        plat: list[float] = []
        solo: list[float] = []
        platform_once(stack, case, dataset, epochs=1)  # warm-up: first fit of this kind in the worker
        for _ in range(repeats):
            plat.append(_note(case, "platform", platform_once(stack, case, dataset)))
            solo.append(_note(case, "direct", direct_once(stack, case, csv)))
        p, d = statistics.median(plat), statistics.median(solo)
        unit = "words/s" if case.metric == "words_per_second" else "samples/s"
        data = f"texts×{TEXT_ROWS}" if case.dataset == UPLOAD else case.dataset
        rows.append(Row("e", f"{case.kind} {unit}, {data} {case.params['epochs']} ep (median of {repeats})",
                        p, d, "direct fit", "≥ 0.95x", p >= 0.95 * d))
    return rows
