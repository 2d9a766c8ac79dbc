"""The web and serve processes' command lines as the Procfile writes them, for tests and benchmarks.

Both run under Granian (a Rust HTTP server, WSGI interface): the HTTP layer costs about half of
gunicorn's (bench/RESULTS.md). tests/test_compose.py checks the Procfile's lines against these.
"""
from __future__ import annotations

# Granian waits this long for a worker to finish its requests on stop; below honcho's KILL_WAIT (test_compose).
KILL_TIMEOUT_S = 3


def _granian(target: str, port: int | str, workers: int | str, threads: int | str, host: str,
             more: tuple[str, ...]) -> list[str]:
    return ["granian", "--interface", "wsgi", "--factory", "--host", host, "--port", str(port),
            "--workers", str(workers), "--blocking-threads", str(threads), "--respawn-failed-workers",
            "--workers-kill-timeout", str(KILL_TIMEOUT_S), *more, target]


def web_args(port: int | str, workers: int | str = 2, threads: int | str = 4, *more: str,
             host: str = "127.0.0.1", target: str = "app:create_app") -> list[str]:
    """``python -m`` arguments of the web process as the Procfile runs it: ``workers`` processes with
    ``threads`` request threads each, so a long upload holds one thread, not a process."""
    return _granian(target, port, workers, threads, host, more)


def serve_args(port: int | str, threads: int | str = 32, *more: str, host: str = "127.0.0.1") -> list[str]:
    """``python -m`` arguments of the serve process as the Procfile runs it: one process, so that
    concurrent requests for a version meet in one batcher."""
    return _granian("app.serve:create_app", port, 1, threads, host, more)
