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
SECRET_KEY_FILE = PROJECT_ROOT / "var" / "secret_key"


def _default_database_url() -> str:
    var = PROJECT_ROOT / "var"
    return f"sqlite:///{var / 'trainyard.db'}"


@dataclass(frozen=True)
class Settings:
    """One immutable bag of settings; build it with ``Settings.from_env()``."""

    database_url: str = field(default_factory=_default_database_url)
    redis_url: str = "redis://127.0.0.1:6379/0"
    # A folder, or an fsspec URL (s3://bucket/prefix, ...) shared by every host of a cluster.
    models_store: Path | str = PROJECT_ROOT / "models_store"
    # Where a URL store's files are downloaded for local use (TensorFlow loads from a path).
    models_cache: Path = PROJECT_ROOT / "var" / "store-cache"
    secret_key: str = DEFAULT_SECRET_KEY
    # Seconds a queued job may wait for a worker before the reconciler rings again.
    redispatch_after_s: int = 120
    reconcile_interval_s: float = 30
    # Proxies in front of the web process whose X-Forwarded-For/-Proto to trust (0: none; never set it
    # higher than the proxies you run, or clients can forge their address).
    trusted_proxies: int = 0
    # Rows per chunk of a batch-inference job (memory stays flat: one chunk at a time).
    batch_chunk_rows: int = 50_000
    # How often beat looks for due schedules (and settles finished scheduled runs).
    schedule_tick_s: float = 5
    # How often beat makes each sweep's decisions (start trials, stop weak ones at a rung).
    sweep_tick_s: float = 2
    max_upload_bytes: int = 1024**3
    # Leases: a running job's worker beats every heartbeat_interval_s; a job whose last beat is
    # older than lease_s is taken back by the reconciler (up to max_attempts claims in all).
    heartbeat_interval_s: float = 5.0
    lease_s: float = 60.0
    max_attempts: int = 3
    # Time limits per job attempt: soft = checkpoint and fail with "time limit" at the next batch;
    # hard = Celery kills the child. soft < hard < the broker's visibility timeout.
    soft_time_limit_s: int = 12 * 3600
    hard_time_limit_s: int = 12 * 3600 + 900
    visibility_timeout_s: int = 13 * 3600
    # A running job checkpoints when this many seconds have passed since its last checkpoint (at an
    # epoch's end, or inside a long epoch), after its last epoch, and before a hand-back or time-limit
    # stop; 0 = after every epoch. A crash loses at most this much training (docs/reliability.md).
    checkpoint_every_s: float = 30.0
    # Extra mid-epoch checkpoints every N batches (0: none by count).
    checkpoint_every_steps: int = 0
    # How long a worker retries its claim, registration or final status while the database is away
    # (the one retry policy: app/services/usecases/retry.py).
    register_retry_s: float = 300.0
    # Jobs a worker child runs before it is replaced (1 frees GPU memory between jobs; 0 = never).
    max_jobs_per_child: int = 0
    # A worker writes its row (queues, GPUs, its child's state) this often (at most 10 s: LIVE_WITHIN is 35 s).
    worker_beat_s: float = 10.0
    # A pool child must report "up" within this; it imports TensorFlow afterwards, in the background.
    worker_child_up_timeout_s: float = 60.0
    # A worker with no child ready to run jobs for this long shows as wedged (workers page, /metrics, health).
    worker_wedged_after_s: float = 180.0
    # Requests other than uploads are capped at this size (JSON, forms); uploads at max_upload_bytes.
    max_request_bytes: int = 16 * 1024 * 1024
    # A predict call (web and serve alike): at most this many instances (or words), and a body of at most this
    # many bytes; beyond either it is a 413 naming the limit.
    max_predict_instances: int = 1000
    max_predict_bytes: int = 8 * 1024 * 1024
    # Sign-in throttling (app/services/login_throttle.py): failures free per account / client address within
    # the window, then each attempt waits 1, 2, 4, ... s after the last failure, up to the cap (429 + Retry-After).
    login_free_failures_per_account: int = 5
    login_free_failures_per_address: int = 20
    login_max_delay_account_s: float = 30.0
    login_max_delay_address_s: float = 60.0
    login_window_s: int = 900
    # Signed-in sessions last this long; set SESSION_COOKIE_SECURE=1 behind a TLS-terminating proxy.
    session_lifetime_s: int = 12 * 3600
    session_cookie_secure: bool = False
    debug: bool = False
    # Webhook deliveries: tries before giving up, first retry delay (doubling each time), sender poll.
    webhook_max_attempts: int = 8
    webhook_backoff_s: float = 10.0
    webhook_poll_s: float = 2.0
    # The serve process (app/serve): where the web forwards predictions and how long it waits for an answer.
    serve_url: str = "http://127.0.0.1:5001"
    serve_timeout_s: float = 10.0
    # Micro-batching per version: at most serve_max_batch rows run together; a request waits at most
    # serve_max_wait_ms for others to join (serve_batching=0: every request runs alone, for comparison).
    serve_max_batch: int = 64
    serve_max_wait_ms: float = 2.0
    serve_batching: int = 1
    # Versions the serve process keeps loaded besides the aliased ones (LRU), and how often it checks every
    # alias in the database as well (the Redis announcement is the fast path).
    serve_cache_size: int = 4
    serve_alias_check_s: float = 30.0
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
            store = env["MODELS_STORE"]
            values["models_store"] = store if "://" in store else Path(store).resolve()
        if env.get("MODELS_CACHE"):
            values["models_cache"] = Path(env["MODELS_CACHE"]).resolve()
        if env.get("SECRET_KEY"):
            values["secret_key"] = env["SECRET_KEY"]
        elif environ is None and SECRET_KEY_FILE.is_file():  # the one scripts/run.sh generated: the CLI finds it
            values["secret_key"] = SECRET_KEY_FILE.read_text().strip()
        if env.get("SERVE_URL"):
            values["serve_url"] = env["SERVE_URL"]
        if env.get("FLASK_DEBUG", "").lower() in ("1", "true", "yes"):
            values["debug"] = True
        if env.get("SESSION_COOKIE_SECURE", "").lower() in ("1", "true", "yes"):
            values["session_cookie_secure"] = True
        for var, name, cast in _NUMERIC:
            if env.get(var):
                values[name] = cast(env[var])
        values.update(overrides)
        return cls(**values)  # type: ignore[arg-type]

    @property
    def serve_key(self) -> str:
        """What the web shows the serve process (derived from SECRET_KEY, which both already share)."""
        import hashlib
        import hmac

        return hmac.new(self.secret_key.encode(), b"trainyard-serve", hashlib.sha256).hexdigest()

    def to_env(self) -> dict[str, str]:
        """The environment that makes ``from_env`` rebuild these settings (for child processes)."""
        env = {"DATABASE_URL": self.database_url, "REDIS_URL": self.redis_url,
               "MODELS_STORE": str(self.models_store), "MODELS_CACHE": str(self.models_cache),
               "SECRET_KEY": self.secret_key,
               "REDISPATCH_AFTER_S": str(self.redispatch_after_s),
               "RECONCILE_INTERVAL_S": str(self.reconcile_interval_s),
               "UPLOAD_MAX_BYTES": str(self.max_upload_bytes), "SERVE_URL": self.serve_url}
        env.update({var: str(getattr(self, name)) for var, name, _ in _NUMERIC})
        return env


_NUMERIC: tuple[tuple[str, str, type], ...] = (
    ("REDISPATCH_AFTER_S", "redispatch_after_s", int),
    ("RECONCILE_INTERVAL_S", "reconcile_interval_s", float),
    ("UPLOAD_MAX_BYTES", "max_upload_bytes", int),
    ("HEARTBEAT_INTERVAL_S", "heartbeat_interval_s", float),
    ("LEASE_S", "lease_s", float),
    ("MAX_ATTEMPTS", "max_attempts", int),
    ("SOFT_TIME_LIMIT_S", "soft_time_limit_s", int),
    ("HARD_TIME_LIMIT_S", "hard_time_limit_s", int),
    ("VISIBILITY_TIMEOUT_S", "visibility_timeout_s", int),
    ("CHECKPOINT_EVERY_STEPS", "checkpoint_every_steps", int),
    ("CHECKPOINT_EVERY_S", "checkpoint_every_s", float),
    ("REGISTER_RETRY_S", "register_retry_s", float),
    ("MAX_JOBS_PER_CHILD", "max_jobs_per_child", int),
    ("WORKER_BEAT_S", "worker_beat_s", float),
    ("WORKER_CHILD_UP_TIMEOUT_S", "worker_child_up_timeout_s", float),
    ("WORKER_WEDGED_AFTER_S", "worker_wedged_after_s", float),
    ("SCHEDULE_TICK_S", "schedule_tick_s", float),
    ("SWEEP_TICK_S", "sweep_tick_s", float),
    ("TRUSTED_PROXIES", "trusted_proxies", int),
    ("BATCH_CHUNK_ROWS", "batch_chunk_rows", int),
    ("MAX_REQUEST_BYTES", "max_request_bytes", int),
    ("MAX_PREDICT_INSTANCES", "max_predict_instances", int),
    ("MAX_PREDICT_BYTES", "max_predict_bytes", int),
    ("LOGIN_FREE_FAILURES_PER_ACCOUNT", "login_free_failures_per_account", int),
    ("LOGIN_FREE_FAILURES_PER_ADDRESS", "login_free_failures_per_address", int),
    ("LOGIN_MAX_DELAY_ACCOUNT_S", "login_max_delay_account_s", float),
    ("LOGIN_MAX_DELAY_ADDRESS_S", "login_max_delay_address_s", float),
    ("LOGIN_WINDOW_S", "login_window_s", int),
    ("SESSION_LIFETIME_S", "session_lifetime_s", int),
    ("WEBHOOK_MAX_ATTEMPTS", "webhook_max_attempts", int),
    ("WEBHOOK_BACKOFF_S", "webhook_backoff_s", float),
    ("WEBHOOK_POLL_S", "webhook_poll_s", float),
    ("SERVE_TIMEOUT_S", "serve_timeout_s", float),
    ("SERVE_MAX_BATCH", "serve_max_batch", int),
    ("SERVE_MAX_WAIT_MS", "serve_max_wait_ms", float),
    ("SERVE_BATCHING", "serve_batching", int),
    ("SERVE_CACHE_SIZE", "serve_cache_size", int),
    ("SERVE_ALIAS_CHECK_S", "serve_alias_check_s", float),
)
