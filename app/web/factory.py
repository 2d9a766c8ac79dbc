"""The web application factory: check settings, wire the runtime, register blueprints and errors.

Imports Flask; nothing here imports TensorFlow or opens a connection.
"""
from __future__ import annotations

import io
from datetime import timedelta

from flask import Flask, g, request
from flask.sessions import SecureCookieSessionInterface

from app.config import DEFAULT_SECRET_KEY, Settings
from app.domain.errors import OverLimit
from app.http_json import use_orjson
from app.kinds import KINDS
from app.runtime import Runtime
from app.web import hostile, secret_key
from app.web.errors import register_error_handlers
from app.web.ids import DatabaseInt


def create_app(settings: Settings | None = None) -> Flask:
    """Build the Flask app: check settings, wire the runtime, register blueprints and errors."""
    settings = settings or Settings.from_env()
    _check_secret_key(settings)
    app = Flask(__name__, static_folder="static")
    use_orjson(app)
    app.url_map.converters["int"] = DatabaseInt  # before any route: <int:id> segments stop at MAX_ID
    _configure(app, settings)
    hostile.install(app, skip_body=UPLOAD_ENDPOINTS)  # first of the request hooks: before the guard
    app.extensions["trainyard"] = Runtime.build(settings)
    if not settings.testing:
        _check_schema_before_serving(app)
    _register_blueprints(app)
    _install_auth(app)
    register_error_handlers(app)
    _register_commands(app)
    KINDS.load()  # discover the kind packages now: a broken one is logged at start-up, not at first use
    if settings.trusted_proxies:
        # Behind N proxies (TLS terminator, load balancer): take the client's address and scheme from their
        # X-Forwarded-* headers, so login limits count per client (not per proxy) and cookies are Secure.
        from werkzeug.middleware.proxy_fix import ProxyFix

        n = settings.trusted_proxies
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=n, x_proto=n, x_host=n)  # type: ignore[method-assign]
    return app


def _check_secret_key(settings: Settings) -> None:
    if settings.testing or settings.debug:
        return
    secret_key.check(settings.secret_key)


class _SessionInterface(SecureCookieSessionInterface):
    """The session cookie is Secure whenever the request came over HTTPS (or SESSION_COOKIE_SECURE says so).

    A request without the cookie (every API call with a token) gets a new, empty session at once, as Flask
    would give it, without building the cookie's signing serializer and parsing the cookies first: 7 % of
    a token-checked read's CPU in a profile.
    """

    def open_session(self, app: Flask, request):  # type: ignore[no-untyped-def]
        if app.secret_key and self.get_cookie_name(app) not in request.environ.get("HTTP_COOKIE", ""):
            return self.session_class()
        return super().open_session(app, request)

    def get_cookie_secure(self, app: Flask) -> bool:
        return bool(app.config["SESSION_COOKIE_SECURE"]) or request.is_secure


# Endpoints whose body is an upload: they get the upload limit instead of the request limit.
UPLOAD_ENDPOINTS = ("api.upload_dataset", "web.upload_dataset")
# The predict API has its own body limit (MAX_PREDICT_BYTES), as the serve process it forwards to does.
PREDICT_ENDPOINT = "api.predict_endpoint"


def _configure(app: Flask, settings: Settings) -> None:
    app.config.update(
        SECRET_KEY=settings.secret_key,
        TESTING=settings.testing,
        # Every request is capped; uploads stream to disk under their own, larger cap (checked while streaming).
        MAX_CONTENT_LENGTH=settings.max_request_bytes,
        MAX_FORM_MEMORY_SIZE=1024 * 1024,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings.session_cookie_secure,
        PERMANENT_SESSION_LIFETIME=timedelta(seconds=settings.session_lifetime_s),
    )
    app.session_interface = _SessionInterface()
    if settings.secret_key == DEFAULT_SECRET_KEY:
        app.logger.warning("SECRET_KEY is the development default; set SECRET_KEY in production")

    @app.before_request
    def _body_limits():  # before the hostile-input check reads any body
        # g.body_limit: the limit as its setting states it, for a 413 raised while the body is read (errors.py)
        if request.endpoint in UPLOAD_ENDPOINTS:  # plus 1 MiB for a form's framing around the file
            request.max_content_length = settings.max_upload_bytes + 1024 * 1024
            g.body_limit = (settings.max_upload_bytes, "UPLOAD_MAX_BYTES")
        elif request.endpoint == PREDICT_ENDPOINT:
            limit = request.max_content_length = settings.max_predict_bytes
            g.body_limit = (limit, "MAX_PREDICT_BYTES")
            length = request.content_length
            if length is None and request.environ.get("wsgi.input_terminated"):
                # Chunked: Werkzeug would cut the body off at the limit without a word, so read one byte past it
                data = request.input_stream.read(limit + 1)
                request.environ["wsgi.input"], length = io.BytesIO(data), len(data)
            if (length or 0) > limit:
                raise OverLimit("body", f"a predict request may carry at most {limit:,} bytes, got "
                                        f"{'at least ' if request.content_length is None else ''}{length:,}",
                                limit, "MAX_PREDICT_BYTES")


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
    from app.web import metrics
    from app.web.api import bp as api_bp
    from app.web.pages import bp as web_bp

    app.register_blueprint(api_bp)
    app.register_blueprint(web_bp)
    metrics.init_app(app)


def _install_auth(app: Flask) -> None:
    from app.web.auth import bp as auth_bp
    from app.web.auth import guard

    app.register_blueprint(auth_bp)
    guard.install(app)


def _register_commands(app: Flask) -> None:
    from app.web.cli import trainyard_cli

    app.cli.add_command(trainyard_cli)
