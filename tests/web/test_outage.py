"""Nothing listens where the database should be: every answer is a 503 with Retry-After, never a 500.

A fast check with no database at all; tests/faults/test_database_outage.py cuts a real PostgreSQL.
"""
from __future__ import annotations

import logging

import pytest

from app import create_app
from app.config import Settings
from tests.support import free_port


@pytest.fixture
def app_without_database(tmp_path):
    settings = Settings(database_url=f"postgresql+psycopg://nobody@127.0.0.1:{free_port()}/gone",
                        redis_url=f"redis://127.0.0.1:{free_port()}/0", models_store=tmp_path / "store", testing=True)
    app = create_app(settings)
    yield app
    app.extensions["trainyard"].engine.dispose()


def test_without_a_database_every_answer_is_a_503_with_retry_after_and_one_log_line(app_without_database, caplog):
    caplog.set_level(logging.WARNING)
    client = app_without_database.test_client()
    health = client.get("/api/v1/health")
    assert health.status_code == 503 and health.headers["Retry-After"] == "5"
    assert health.get_json()["dependencies"] == {"database": "down", "redis": "down"}
    assert health.get_json()["down"] == ["database", "redis"]
    bearer = {"Authorization": "Bearer ty_whatever"}  # checking the token needs the database
    api = client.get("/api/v1/jobs", headers=bearer)
    assert api.status_code == 503 and api.headers["Retry-After"] == "5"
    assert api.get_json()["error"] == "unavailable" and api.get_json()["dependency"] == "database"
    page = client.get("/", headers=bearer)
    assert page.status_code == 503 and page.mimetype == "text/html"
    assert "Database unavailable" in page.get_data(as_text=True)
    assert client.get("/api/v1/health", headers=bearer).status_code == 503
    lines = [r.getMessage() for r in caplog.records if "database unavailable" in r.getMessage()]
    assert len(lines) == 4 and all("\n" not in line for line in lines), lines
    assert not any(r.exc_info for r in caplog.records)
