"""A dependency is down (the database, Redis): say so with a 503 and Retry-After, not a 500 and a traceback.

An outage is not a bug: each refused request logs one line, and the client learns which
dependency is away and when to try again. The engine's pre-ping replaces dead pooled
connections, so the first request after the database is back is served normally.
"""
from __future__ import annotations

import redis
from flask import Flask, Response, current_app, jsonify, render_template, request
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from app.services import workers
from app.services.usecases.report import one_line
from app.services.usecases.retry import transient

RETRY_AFTER_S = 5


def database_unavailable(exc: BaseException) -> Response:
    """The answer to any request that met a database outage: JSON under /api/, an HTML page elsewhere."""
    if request.endpoint == "api.health":  # the outage met the caller's token check: still name each dependency
        return health(current_app.extensions["trainyard"])
    current_app.logger.warning("database unavailable: %s %s answered 503 (%s)", request.method,
                               request.path, one_line(exc))
    message = "the database is unavailable; try again in a few seconds"
    if request.path.startswith("/api/"):
        response = jsonify({"error": "unavailable", "message": message, "dependency": "database",
                            "dependencies": {"database": "down"}})
    else:
        response = Response(render_template("unavailable.html", dependency="database", retry_after=RETRY_AFTER_S),
                            mimetype="text/html")
    response.status_code = 503
    response.headers["Retry-After"] = str(RETRY_AFTER_S)
    return response


def register(app: Flask) -> None:
    """Route database outages to the 503 answer; any other database error stays a logged 500."""
    @app.errorhandler(DBAPIError)
    def _dbapi(exc: DBAPIError):
        if not transient(exc):
            raise exc
        return database_unavailable(exc)

    @app.errorhandler(PoolTimeout)
    def _pool(exc: PoolTimeout):  # every pooled connection is stuck waiting on the database
        return database_unavailable(exc)


def _redis_up(url: str) -> bool:
    try:
        return bool(redis.Redis.from_url(url, socket_connect_timeout=1, socket_timeout=1).ping())
    except (redis.RedisError, OSError):
        return False


def health(rt) -> Response:
    """Which dependency is down: the database (503: nothing can be served) or Redis (200, degraded:
    pages and reads work, new jobs wait in their rows until the reconciler rings for them)."""
    wedged: list[str] | None = None
    try:
        with rt.session() as session:
            wedged = workers.wedged_workers(session)
    except (DBAPIError, PoolTimeout) as exc:
        if isinstance(exc, DBAPIError) and not transient(exc):
            raise
        current_app.logger.warning("health: database unavailable (%s)", one_line(exc))
    deps = {"database": "ok" if wedged is not None else "down",
            "redis": "ok" if _redis_up(rt.settings.redis_url) else "down"}
    down = [name for name, state in deps.items() if state == "down"]
    status = "unavailable" if wedged is None else "degraded" if down or wedged else "ok"
    body = {"status": status, "dependencies": deps, "down": down, "workers": {"wedged": len(wedged or [])}}
    if wedged is not None:
        return jsonify(body)
    # Every 503 of the API has the error fields too (one schema for errors).
    response = jsonify({**body, "error": "unavailable", "message": "the database is unavailable"})
    response.status_code = 503
    response.headers["Retry-After"] = str(RETRY_AFTER_S)
    return response
