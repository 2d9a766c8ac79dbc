"""Settings read from the environment, with defaults that work on a laptop.

Every process (web, worker, beat, CLI, tests) builds its settings here, so the
same variable means the same thing everywhere. The README's configuration table
lists them all.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SECRET_KEY = "dev-not-secret"


def _default_database_url() -> str:
    var = PROJECT_ROOT / "var"
    return f"sqlite:///{var / 'trainyard.db'}"


@dataclass(frozen=True)
class Settings:
    """One immutable bag of settings; build it with ``Settings.from_env()``."""

    database_url: str = field(default_factory=_default_database_url)
    redis_url: str = "redis://127.0.0.1:6379/0"
    models_store: Path = PROJECT_ROOT / "models_store"
    secret_key: str = DEFAULT_SECRET_KEY
    # Seconds a queued job may wait for a worker before the reconciler rings again.
    redispatch_after_s: int = 120
    reconcile_interval_s: int = 30
    max_upload_bytes: int = 1024**3
    testing: bool = False

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None, **overrides: object) -> Settings:
        """Read TRAINYARD settings from ``environ`` (default: the process environment)."""
        env = os.environ if environ is None else environ
        values: dict[str, object] = {}
        if env.get("DATABASE_URL"):
            values["database_url"] = env["DATABASE_URL"]
        if env.get("REDIS_URL"):
            values["redis_url"] = env["REDIS_URL"]
        if env.get("MODELS_STORE"):
            values["models_store"] = Path(env["MODELS_STORE"]).resolve()
        if env.get("SECRET_KEY"):
            values["secret_key"] = env["SECRET_KEY"]
        if env.get("REDISPATCH_AFTER_S"):
            values["redispatch_after_s"] = int(env["REDISPATCH_AFTER_S"])
        if env.get("UPLOAD_MAX_BYTES"):
            values["max_upload_bytes"] = int(env["UPLOAD_MAX_BYTES"])
        if env.get("RECONCILE_INTERVAL_S"):
            values["reconcile_interval_s"] = int(env["RECONCILE_INTERVAL_S"])
        values.update(overrides)
        return cls(**values)  # type: ignore[arg-type]
