"""The web application factory: check settings, wire the runtime, register blueprints and errors.

Imports Flask; nothing here imports TensorFlow or opens a connection.
"""
from __future__ import annotations

from flask import Flask

from app.config import DEFAULT_SECRET_KEY, Settings
from app.errors import register_error_handlers
from app.runtime import Runtime


def create_app(settings: Settings | None = None) -> Flask:
    """Build the Flask app: check settings, wire the runtime, register blueprints and errors."""
    settings = settings or Settings.from_env()
    app = Flask(__name__, static_folder="web/static")
    _configure(app, settings)
    app.extensions["trainyard"] = Runtime.build(settings)
    if not settings.testing:
        _check_schema_before_serving(app)
    _register_blueprints(app)
    register_error_handlers(app)
    _register_commands(app)
    return app


def _configure(app: Flask, settings: Settings) -> None:
    app.config.update(
        SECRET_KEY=settings.secret_key,
        TESTING=settings.testing,
        # Uploads stream to disk; this caps a request (the upload itself is checked while streaming).
        MAX_CONTENT_LENGTH=settings.max_upload_bytes + 1024 * 1024,
        MAX_FORM_MEMORY_SIZE=1024 * 1024,
        JSON_SORT_KEYS=False,
    )
    if settings.secret_key == DEFAULT_SECRET_KEY:
        app.logger.warning("SECRET_KEY is the development default; set SECRET_KEY in production")


def _check_schema_before_serving(app: Flask) -> None:
    """Refuse to serve (503) on a database that is behind the code, saying what to run.

    Checked on the first request, not at creation: `flask trainyard init` builds this same app
    to migrate the database.
    """
    from app import migrate

    state: dict[str, str | None] = {}

    @app.before_request
    def _schema_at_head():
        if "problem" not in state:
            rt = app.extensions["trainyard"]
            current, head = migrate.pending(rt.engine, rt.settings.database_url)
            state["problem"] = None if current == head else (
                f"the database is at migration {current}, the code expects {head}: "
                "run `flask --app app trainyard init` (scripts/run.sh does it)")
            if state["problem"]:
                app.logger.error(state["problem"])
        if state["problem"]:
            state.pop("problem")  # check again next time: the operator may have migrated meanwhile
            return {"error": "unavailable", "message": "database schema is behind the code; see the log"}, 503
        return None


def _register_blueprints(app: Flask) -> None:
    from app import metrics
    from app.api import bp as api_bp
    from app.web import bp as web_bp

    app.register_blueprint(api_bp)
    app.register_blueprint(web_bp)
    metrics.init_app(app)


def _register_commands(app: Flask) -> None:
    from app.cli import trainyard_cli

    app.cli.add_command(trainyard_cli)
