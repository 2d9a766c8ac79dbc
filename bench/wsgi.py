"""Gunicorn entry point for the benchmarks: the real app plus one constant-JSON route (the floor).

``/bench/constant`` runs through the same gunicorn worker, WSGI stack, Flask app, URL
routing and ``jsonify`` as every API view, but touches neither the
database nor Redis: its throughput is what this server can do at best.
"""
from __future__ import annotations

from flask import Flask, Response, jsonify

from app import create_app

CONSTANT = {"status": "ok", "service": "trainyard", "source": "bench"}


def build() -> Flask:
    """``app.create_app()`` with the constant route added; nothing else changes."""
    from app.web.auth.policy import POLICY, PUBLIC

    flask_app = create_app()
    POLICY["bench_constant"] = PUBLIC  # the floor: no token lookup, like the health check

    @flask_app.get("/bench/constant")
    def bench_constant() -> Response:
        """A constant JSON body: the framework's floor."""
        return jsonify(CONSTANT)

    return flask_app


app = build()
