"""Sweeps (issue 18): the adaptive strategy against the full grid on mlp/digits, in one run.

    .venv/bin/python bench/sweep.py             # 27 configurations, 9 epochs per trial (about 5 minutes)
    .venv/bin/python bench/sweep.py --quick     # 8 configurations, 3 epochs (a smoke test)

Both sweeps are real sweeps on a real (temporary SQLite) database, decided by the same use-cases beat runs
(``advance_sweeps``: Optuna's TPE and SuccessiveHalvingPruner for the adaptive one). What is not the live
stack: the trials run in this process, one at a time (``budget.parallel`` 1), through the worker's own
steps (``claim``, the kind's trainer with a ``TrainContext``, ``report.progress`` at each epoch's end,
``finish_training`` or ``stop.cancelled``), with the doorbell handing each job to that loop instead of
Redis, and beat's decisions taken after every epoch (as a beat ticking faster than an epoch would). Through
real workers each trial would also pay the claim and the version's files; the epochs are the same.

Target: the adaptive best validation accuracy within 0.01 of the grid's best, for at most a third of its epochs.
"""
from __future__ import annotations

import argparse
import os
import platform
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from app.config import Settings  # noqa: E402
from app.data.builtin import BUILTINS, load_builtin  # noqa: E402
from app.db import make_engine, make_session_factory  # noqa: E402
from app.kinds import KINDS  # noqa: E402
from app.migrate import upgrade  # noqa: E402
from app.runtime import Runtime  # noqa: E402
from app.services import sweeps  # noqa: E402
from app.services.datasets import ensure_builtin_datasets  # noqa: E402
from app.services.usecases import report, stop  # noqa: E402
from app.services.usecases.claim import claim  # noqa: E402
from app.services.usecases.finish import finish_training  # noqa: E402
from app.services.usecases.sweep import advance_sweeps, create_sweep  # noqa: E402
from app.storage import make_store  # noqa: E402

SPACE = {"hidden_units": [16, 64, 256], "learning_rate": [0.0003, 0.003, 0.03], "dropout": [0.0, 0.2, 0.5],
         "batch_size": 32, "validation_split": 0.3}
QUICK_SPACE = {"hidden_units": [16, 128], "learning_rate": [0.0003, 0.03], "dropout": [0.0, 0.5],
               "batch_size": 32, "validation_split": 0.3}


class InProcessDoorbell:
    """The doorbell for this bench: a rung job waits in a list for the in-process trial loop."""

    def __init__(self) -> None:
        self.rung: list[str] = []

    def ring(self, job_id: str, queue: str) -> bool:
        self.rung.append(job_id)
        return True

    def live_message_ids(self, queues, unacked_grace_s: float):
        return set(self.rung)


def _runtime(folder: Path) -> Runtime:
    settings = Settings(database_url=f"sqlite:///{folder / 'bench.db'}", models_store=folder / "store",
                        redis_url="redis://127.0.0.1:1/0", testing=True)
    upgrade(settings.database_url)
    engine = make_engine(settings.database_url)
    store = make_store(settings.models_store, settings.models_cache)
    rt = Runtime(settings, engine, make_session_factory(engine), store, InProcessDoorbell())
    with rt.session() as session:
        ensure_builtin_datasets(session)
    return rt


def _run_trial(rt: Runtime, job_id: str, data, folder: Path) -> None:
    """One trial, as a worker runs it: claim, train with per-epoch reports, then finish or stop."""
    from workers.trainers import TRAINERS
    from workers.trainers.base import Cancelled
    from workers.trainers.context import TrainContext

    order = claim(rt, job_id, "bench")
    assert order is not None
    attempt = order.job.attempt

    def progress(p) -> None:
        if not p.epoch_end:
            return
        report.progress(rt, job_id, attempt, epoch=p.epoch, total_epochs=p.total_epochs, fraction=p.fraction,
                        metrics=p.metrics, epoch_end=True)
        advance_sweeps(rt)  # beat's decisions, between this epoch and the next
        beat = report.heartbeat(rt, job_id, attempt)
        if beat is not None and beat.cancel:
            raise Cancelled("stopped at its rung")

    (folder / job_id).mkdir(parents=True, exist_ok=True)
    ctx = TrainContext(dict(order.job.params), data, folder / job_id, progress)
    try:
        TRAINERS[order.job.kind](ctx)
    except Cancelled:
        stop.cancelled(rt, job_id, attempt)
        return
    finish_training(rt, job_id, attempt, order.job.model_name, [], ctx.result().metrics, {})


def run_sweep(rt: Runtime, body: dict, data, folder: Path) -> dict:
    doorbell: InProcessDoorbell = rt.dispatcher  # type: ignore[assignment]
    sweep_id = create_sweep(rt, body, "bench")["id"]
    started = time.monotonic()
    while True:
        advance_sweeps(rt)
        if not doorbell.rung:
            with rt.session() as session:
                result = sweeps.get_sweep(session, sweep_id)
            if result["status"] != "running":
                return {**result, "wall_s": time.monotonic() - started}
            raise RuntimeError(f"sweep {sweep_id} is stuck: {result['detail']}")
        _run_trial(rt, doorbell.rung.pop(0), data, folder)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true")
    p.add_argument("--trials", type=int, help="the adaptive sweep's trial budget (default: 4/9 of the grid)")
    p.add_argument("--seeds", default="0,1,2,3,4", help="the adaptive sweep's sampler seeds, one sweep each")
    p.add_argument("--strategy", default="asha", choices=["asha", "hyperband"], help="the adaptive strategy")
    args = p.parse_args()
    space, epochs = (QUICK_SPACE, 3) if args.quick else (SPACE, 9)
    points = 1
    for entry in space.values():
        points *= len(entry) if isinstance(entry, list) else 1
    trials = args.trials or max(2, points * 4 // 9)
    data = load_builtin(BUILTINS["digits"].source)
    assert "mlp" in KINDS
    base = {"kind": "mlp", "dataset": "digits", "metric": "val_accuracy", "direction": "maximize",
            "space": space}
    with tempfile.TemporaryDirectory(prefix="bench-sweep-") as tmp:
        folder = Path(tmp)
        rt = _runtime(folder)
        grid = run_sweep(rt, {**base, "model_name": "bench-grid", "strategy": "grid",
                              "budget": {"trials": points, "parallel": 1, "epochs": epochs}}, data, folder)
        adaptive = {seed: run_sweep(rt, {**base, "model_name": f"bench-{args.strategy}-{seed}",
                                         "strategy": args.strategy,
                                         "seed": seed, "budget": {"trials": trials, "parallel": 1, "epochs": epochs,
                                                                  "min_epochs": 1, "reduction_factor": 3}},
                                    data, folder)
                    for seed in (int(x) for x in args.seeds.split(","))}
    load = os.getloadavg()
    print(f"## Sweeps: {args.strategy} vs grid on mlp/digits ({datetime.now(UTC):%Y-%m-%d %H:%M} UTC, "
          f"{platform.node()}, {os.cpu_count()} cores, load {load[0]:.1f}/{load[1]:.1f}/{load[2]:.1f})\n")
    print("| strategy | configurations | trials | stopped early | epochs | best val_accuracy | best trial's "
          "params | wall s |")
    print("|---|---|---|---|---|---|---|---|")
    rule = "successive halving" if args.strategy == "asha" else "Hyperband"
    rows = [("grid", grid)] + [(f"{args.strategy}, seed {seed} (TPE + {rule})", s) for seed, s in adaptive.items()]
    for name, s in rows:
        best = next(t for t in s["trials"] if t["number"] == s["best_trial"])
        print(f"| {name} | {points} | {s['trials_started']} | {s['stopped_early']} | {s['epochs_spent']} | "
              f"{s['best_value']:.4f} | {best['params']} | {s['wall_s']:.0f} |")
    ok = True
    print()
    for seed, s in adaptive.items():
        gap, ratio = grid["best_value"] - s["best_value"], s["epochs_spent"] / grid["epochs_spent"]
        ok = ok and gap <= 0.01 and ratio <= 1 / 3
        print(f"seed {seed}: best gap {gap:+.4f} (target <= 0.01), epochs {ratio:.2f}x the grid's (target <= 0.33)")
    print("PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
