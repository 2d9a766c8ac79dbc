"""``trainyard sweep ...``: create a sweep from a YAML file, follow it, pause, resume, cancel, register its best.

sweep.yaml is the body of POST /api/v1/sweeps (README.md, "Sweeps"):

    kind: mlp
    dataset: digits
    model_name: digits-mlp
    metric: val_accuracy          # one the kind reports at each epoch
    direction: maximize
    strategy: asha                # grid | random | asha | hyperband
    space:
      hidden_units: [16, 64, 256]                          # a list
      learning_rate: {min: 0.0001, max: 0.1, scale: log}  # a range
      batch_size: 32                                       # fixed
    budget: {trials: 20, parallel: 2, epochs: 9}
"""
from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any

from trainyard_client.client import ApiError

ENDED = ("finished", "cancelled")


def load_sweep(file: str) -> dict[str, Any]:
    text = Path(file).read_text()
    if file.endswith((".yaml", ".yml")):
        import yaml

        body = yaml.safe_load(text)
    else:
        body = json.loads(text)
    if not isinstance(body, dict):
        raise SystemExit(f"{file}: expected a mapping (kind, dataset, model_name, space, budget, ...)")
    return body


def _fmt(value: Any) -> str:
    return "-" if value is None else f"{value:.4f}" if isinstance(value, float) else str(value)


def print_sweep(sweep: dict[str, Any], out=None) -> None:
    out = out or sys.stdout
    print(f"sweep {sweep['id']}  {sweep['status']}  {sweep['strategy']}  {sweep['kind']} on {sweep['dataset']}  "
          f"{sweep['direction']} {sweep['metric']}", file=out)
    print(f"trials {sweep['trials_started']}/{sweep['budget']['trials']}  best {_fmt(sweep['best_value'])} "
          f"(trial {_fmt(sweep['best_trial'])})  stopped early {sweep['stopped_early']}  "
          f"epochs spent {sweep['epochs_spent']}, saved {sweep['epochs_saved']}", file=out)
    for t in sweep.get("trials", []):
        rung = f" at rung {t['stopped_rung']} (epoch {t['stopped_epoch']})" if t["status"] == "pruned" else ""
        print(f"  #{t['number']:<3} {t['status']:<10} epoch {t['epoch']:<4} {_fmt(t['metric']):<8} "
              f"{json.dumps(t['params'], sort_keys=True)}{rung}", file=out)


def cmd_sweep(args, client) -> int:
    if args.sweep_command == "create":
        try:
            sweep = client.create_sweep(load_sweep(args.file))
        except ApiError as exc:
            for field, problem in (exc.fields or {}).items():
                print(f"  {field}: {problem}", file=sys.stderr)
            raise
        print(f"created sweep {sweep['id']}", file=sys.stderr)
        if args.wait:
            while sweep["status"] not in ENDED:
                time.sleep(2)
                sweep = client.sweep(sweep["id"])
        print_sweep(sweep)
        return 0
    if args.sweep_command == "list":
        for s in client.sweeps():
            print(f"{s['id']:<5} {s['status']:<10} {s['strategy']:<10} {s['model_name']:<24} "
                  f"{s['trials_started']}/{s['budget']['trials']} trials  best {_fmt(s['best_value'])}")
        return 0
    if args.sweep_command == "status":
        print_sweep(client.sweep(args.sweep))
        return 0
    result = client.sweep_action(args.sweep, args.sweep_command)
    if args.sweep_command == "register":
        print(f"registered {result['model_name']} v{result['version']} from trial {result['lineage']['trial']} "
              f"({json.dumps(result['lineage']['params'], sort_keys=True)})")
    else:
        print_sweep(result)
    return 0


def add_sweep_commands(sub, fn) -> None:
    sweep = sub.add_parser("sweep", help="search a kind's parameters: create, list, status, pause, resume, "
                                         "cancel, register").add_subparsers(dest="sweep_command", required=True)
    p = sweep.add_parser("create", help="create a sweep from a YAML (or JSON) file")
    p.add_argument("file")
    p.add_argument("--wait", action="store_true", help="wait until it ends, then show its trials")
    p.set_defaults(fn=fn)
    sweep.add_parser("list", help="the sweeps, newest first").set_defaults(fn=fn)
    for action, text in (("status", "a sweep and its trials"), ("pause", "start no new trial"),
                         ("resume", "start trials again"), ("cancel", "stop every trial"),
                         ("register", "register the best trial as a version of the sweep's model")):
        p = sweep.add_parser(action, help=text)
        p.add_argument("sweep", type=int)
        p.set_defaults(fn=fn)
