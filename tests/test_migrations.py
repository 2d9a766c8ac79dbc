"""The tables and the Alembic revisions agree, on SQLite and PostgreSQL; one head only."""
from __future__ import annotations

import secrets

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from app.migrate import alembic_config
from app.models import Base


def test_models_and_migrations_agree(db_stack):
    with db_stack.runtime.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}),
                                Base.metadata)
    assert diff == []


def test_there_is_a_single_head():
    heads = ScriptDirectory.from_config(alembic_config("sqlite://")).get_heads()
    assert len(heads) == 1


def test_the_web_app_refuses_an_unmigrated_database_until_it_is_migrated(tmp_path):
    from app import create_app
    from app.config import Settings
    from app.migrate import upgrade

    url = f"sqlite:///{tmp_path / 'empty.db'}"
    app = create_app(Settings(database_url=url, secret_key=secrets.token_urlsafe(48)))
    r = app.test_client().get("/api/v1/health")
    assert r.status_code == 503 and "schema" in r.get_json()["message"]
    upgrade(url)
    assert app.test_client().get("/api/v1/health").status_code == 200
