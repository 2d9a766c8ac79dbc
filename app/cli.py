"""``flask --app app trainyard ...``: set up and inspect an instance from a terminal."""
from __future__ import annotations

import click
from flask import current_app
from flask.cli import AppGroup

from app import migrate
from app.services.datasets import ensure_builtin_datasets

trainyard_cli = AppGroup("trainyard", help="Trainyard administration.")


@trainyard_cli.command("init")
def init() -> None:
    """Migrate the database to the newest schema and register the built-in datasets."""
    rt = current_app.extensions["trainyard"]
    migrate.upgrade(rt.settings.database_url)
    with rt.session() as session:
        added = ensure_builtin_datasets(session)
    click.echo(f"database at head; {len(added)} built-in dataset(s) registered")


@trainyard_cli.command("check-db")
def check_db() -> None:
    """Exit non-zero if the database is not at the newest migration, saying what to run."""
    rt = current_app.extensions["trainyard"]
    current, head = migrate.pending(rt.engine, rt.settings.database_url)
    if current != head:
        raise click.ClickException(f"database is at {current}, code expects {head}: "
                                   "run `flask --app app trainyard init`")
    click.echo(f"database at head {head}")
