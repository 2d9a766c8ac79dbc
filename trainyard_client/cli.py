"""``trainyard``: the command-line client (log in once, then submit, wait, download...).

The server URL and token are kept in ``$XDG_CONFIG_HOME/trainyard/config.json`` (default
``~/.config/trainyard/config.json``, readable by you only); TRAINYARD_URL and TRAINYARD_TOKEN
override them.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any

from trainyard_client.client import ApiError, ChecksumMismatch, TrainyardClient, safe_name
from trainyard_client.output import FINISHED, Bar, finish, show
from trainyard_client.sweeps import add_sweep_commands, cmd_sweep


def config_path() -> Path:
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "trainyard" / "config.json"


def load_config() -> dict[str, str]:
    path = config_path()
    config = json.loads(path.read_text()) if path.exists() else {}
    for key, var in (("url", "TRAINYARD_URL"), ("token", "TRAINYARD_TOKEN")):
        if os.environ.get(var):
            config[key] = os.environ[var]
    return config


def save_config(config: dict[str, str]) -> Path:
    path = config_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        json.dump(config, fh, indent=2)
    os.chmod(path, 0o600)
    return path


def parse_value(text: str) -> Any:
    """``--param epochs=5`` gives 5, ``tflite=true`` gives True, anything else stays a string."""
    try:
        return json.loads(text)
    except ValueError:
        return text


def load_params(file: str | None, pairs: list[str]) -> dict[str, Any]:
    """Parameters from a YAML or JSON file, then ``key=value`` flags on top."""
    params: dict[str, Any] = {}
    if file:
        text = Path(file).read_text()
        if file.endswith((".yaml", ".yml")):
            import yaml

            params = yaml.safe_load(text) or {}
        else:
            params = json.loads(text)
        if not isinstance(params, dict):
            raise SystemExit(f"{file}: expected a mapping of parameter names to values")
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep:
            raise SystemExit(f"--param {pair!r}: write it as name=value")
        params[key.strip()] = parse_value(value)
    return params


def _client(args) -> TrainyardClient:
    config = load_config()
    url = (args.url or config.get("url") or "").rstrip("/")
    if not url:
        raise SystemExit("no server: run `trainyard login --url URL --token TOKEN` (or set TRAINYARD_URL)")
    # The saved token goes only to the server it was saved for; another URL needs TRAINYARD_TOKEN.
    token = os.environ.get("TRAINYARD_TOKEN") or (config.get("token") if url == config.get("url") else None)
    return TrainyardClient(url, token)


def cmd_login(args) -> int:
    token = args.token or os.environ.get("TRAINYARD_TOKEN")
    if not token:
        import getpass

        token = getpass.getpass("API token: ")
    me = TrainyardClient(args.url, token)._request("GET", "/me")  # refuses a wrong token before saving it
    path = save_config({"url": args.url.rstrip("/"), "token": token})
    print(f"logged in to {args.url} as {me.get('username')} ({me.get('role')}); token kept in {path}")
    return 0


def cmd_submit(args) -> int:
    c = _client(args)
    job = c.submit(args.kind, args.dataset, args.model, load_params(args.params_file, args.param),
                   queue=args.queue, gpus=args.gpus, idempotency_key=args.idempotency_key)
    if not args.wait:
        show(job)
        return 0
    print(f"submitted job {job['id']} on queue {job['queue']}", file=sys.stderr)
    return finish(c.wait(job["id"], on_progress=Bar(), timeout=args.timeout))


def cmd_status(args) -> int:
    show(_client(args).job(args.job))
    return 0


def cmd_wait(args) -> int:
    return finish(_client(args).wait(args.job, on_progress=None if args.quiet else Bar(), timeout=args.timeout))


def cmd_logs(args) -> int:
    c = _client(args)
    after = 0
    while True:
        for e in c.logs(args.job, after):
            after = e["id"]
            p = e["payload"]
            text = p.get("message") if e["kind"] == "log" else f"status {p.get('status')}"
            print(f"{e['at'][:19].replace('T', ' ')}  {text}")
        if not args.follow or c.job(args.job)["status"] in ("succeeded", "failed", "cancelled"):
            return 0
        import time

        time.sleep(1)


def cmd_cancel(args) -> int:
    """Ask for the cancel, then (unless --no-wait) wait until the job has really stopped."""
    c = _client(args)
    job = c.cancel(args.job)
    if job["status"] not in FINISHED and not args.no_wait:
        print(f"cancel requested: job {job['id']} stops at its next batch and keeps no version", file=sys.stderr)
        job = c.wait(job["id"], timeout=args.timeout)
    show(job)
    return 0 if job["status"] == "cancelled" or (args.no_wait and job["status"] not in FINISHED) else 1


HEADLINE = ("test_accuracy", "test_macro_f1", "wordsim353_spearman")  # what `trainyard versions` shows


def cmd_versions(args) -> int:
    for v in _client(args).versions(args.model):
        metrics = v.get("metrics", {})
        headline = {k: metrics[k] for k in HEADLINE if k in metrics}
        print(f"v{v['version']}\t{v.get('created_at', '')[:19]}\t{json.dumps(headline)}")
    return 0


def cmd_promote(args) -> int:
    show(_client(args).promote(args.model, args.version, args.alias, args.reason))
    return 0


def cmd_rollback(args) -> int:
    show(_client(args).rollback(args.model, args.alias, args.reason))
    return 0


def cmd_download(args) -> int:
    c = _client(args)
    out = Path(args.out)
    names = args.files or [a["name"] for a in c.version(args.model, args.version)["artifacts"]]
    for name in names:
        if not safe_name(name):
            raise SystemExit(f"refusing the artifact name {name!r}: not a plain file name")
        path = c.download(args.model, args.version, name, out / name)
        print(f"{path}  (sha256 verified)")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="trainyard", description="Trainyard from a terminal.")
    parser.add_argument("--url", help="server URL (default: the one saved by login)")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("login", help="save the server URL and your API token")
    p.add_argument("--url", required=True, dest="url")
    p.add_argument("--token", help="API token (default: TRAINYARD_TOKEN, or asked for)")
    p.set_defaults(fn=cmd_login)

    p = sub.add_parser("submit", help="submit a training job")
    p.add_argument("kind")
    p.add_argument("--dataset", required=True)
    p.add_argument("--model", required=True, help="model name")
    p.add_argument("--param", action="append", default=[], metavar="NAME=VALUE")
    p.add_argument("--params-file", help="YAML or JSON file of parameters")
    p.add_argument("--queue", choices=["cpu", "gpu", "auto"])
    p.add_argument("--gpus", type=int)
    p.add_argument("--idempotency-key")
    p.add_argument("--wait", action="store_true", help="follow the job with a progress bar until it ends")
    p.add_argument("--timeout", type=float)
    p.set_defaults(fn=cmd_submit)

    p = sub.add_parser("status", help="show a job")
    p.add_argument("job")
    p.set_defaults(fn=cmd_status)

    p = sub.add_parser("cancel", help="cancel a job and wait until it has stopped")
    p.add_argument("job")
    p.add_argument("--no-wait", action="store_true", help="return once the cancel is requested")
    p.add_argument("--timeout", type=float, default=300.0)
    p.set_defaults(fn=cmd_cancel)

    p = sub.add_parser("wait", help="wait for a job, with a progress bar")
    p.add_argument("job")
    p.add_argument("--timeout", type=float)
    p.add_argument("--quiet", action="store_true")
    p.set_defaults(fn=cmd_wait)

    p = sub.add_parser("logs", help="a job's log lines")
    p.add_argument("job")
    p.add_argument("--follow", "-f", action="store_true")
    p.set_defaults(fn=cmd_logs)

    p = sub.add_parser("versions", help="list a model's versions")
    p.add_argument("model")
    p.set_defaults(fn=cmd_versions)

    p = sub.add_parser("promote", help="point an alias at a version")
    p.add_argument("model")
    p.add_argument("version", type=int)
    p.add_argument("--alias", default="production")
    p.add_argument("--reason", required=True)
    p.set_defaults(fn=cmd_promote)

    p = sub.add_parser("rollback", help="move an alias back to where it was before its last move")
    p.add_argument("model")
    p.add_argument("--alias", default="production")
    p.add_argument("--reason", required=True)
    p.set_defaults(fn=cmd_rollback)

    p = sub.add_parser("download", help="download a version's artifacts (resumable, sha256-checked)")
    p.add_argument("model")
    p.add_argument("version", type=int)
    p.add_argument("files", nargs="*", help="artifact names (default: all)")
    p.add_argument("--out", default=".")
    p.set_defaults(fn=cmd_download)

    add_sweep_commands(sub, lambda args: cmd_sweep(args, _client(args)))

    kinds = sub.add_parser("kinds", help="model kinds: scaffold your own").add_subparsers(dest="kinds_command",
                                                                                        required=True)
    p = kinds.add_parser("new", help="create a model-kind package that installs and trains as generated")
    p.add_argument("name", help="the kind's name (lower-case letters, digits, '_')")
    p.add_argument("--dir", default=".", help="where to create trainyard-NAME/ (default: here)")
    p.add_argument("--title", help="the title shown in the form")
    p.set_defaults(fn=cmd_kinds_new)
    return parser


def cmd_kinds_new(args) -> int:
    from trainyard_client.scaffold import new_kind

    try:
        root = new_kind(args.name, Path(args.dir), args.title)
    except (ValueError, FileExistsError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"created {root}\nnext: pip install -e {root}  (on the web and worker hosts; then restart them)\n"
          f"      python -m pytest {root / 'tests'}")
    return 0


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.fn(args)
    except BrokenPipeError:  # `trainyard status JOB | head`: the reader left; stop quietly, as cat does
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 141
    except ApiError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except ChecksumMismatch as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 3


if __name__ == "__main__":
    sys.exit(main())
