"""The benchmarks' web app (Granian factory ``bench.wsgi:build``): the real app plus one constant-JSON
route (the floor).

``/bench/constant`` runs through the same Granian worker, WSGI stack, Flask app, URL
routing and ``jsonify`` as every API view, but touches neither the
database nor Redis: its throughput is what this server can do at best.
"""
from __future__ import annotations

from flask import Flask, Response, jsonify, request

from app import create_app

CONSTANT = {"status": "ok", "service": "trainyard", "source": "bench"}


def build() -> Flask:
    """``app.create_app()`` with the constant route added; nothing else changes."""
    from app.web.auth.policy import POLICY, PUBLIC

    flask_app = create_app()
    POLICY["bench_constant"] = PUBLIC  # the floor: no token lookup, like the health check
    POLICY["bench_sink"] = PUBLIC

    @flask_app.get("/bench/constant")
    def bench_constant() -> Response:
        """A constant JSON body: the framework's floor."""
        return jsonify(CONSTANT)

    def _no_limit_for_the_sink() -> None:
        if request.endpoint == "bench_sink":
            request.max_content_length = 1 << 40  # None would mean "the app's limit"

    flask_app.before_request_funcs.setdefault(None, []).insert(0, _no_limit_for_the_sink)

    @flask_app.post("/bench/sink")
    def bench_sink() -> Response:
        """Read the body in 1 MiB chunks and drop it: the floor of an upload (transfer only)."""
        size = 0
        while chunk := request.stream.read(1024 * 1024):
            size += len(chunk)
        return jsonify({"bytes": size})

    return flask_app
