"""``flask --app app trainyard ...``: set up and inspect an instance from a terminal."""
from __future__ import annotations

import click
from flask import current_app
from flask.cli import AppGroup

from app import migrate
from app.data.builtin import BUILTINS
from app.domain.errors import DomainError
from app.services import accounts, audit, tokens
from app.services.datasets import ensure_builtin_datasets

trainyard_cli = AppGroup("trainyard", help="Trainyard administration.")


@trainyard_cli.command("init")
def init() -> None:
    """Migrate the database to the newest schema and register the built-in datasets."""
    rt = current_app.extensions["trainyard"]
    migrate.upgrade(rt.settings.database_url)
    with rt.session() as session:
        added = ensure_builtin_datasets(session)
    present = len(BUILTINS)
    click.echo(f"database at head; {present} built-in datasets present"
               + (f" ({len(added)} registered now)" if added else ""))
    _first_admin(rt)


def _first_admin(rt) -> None:
    """On the first start, create ``admin``: password from TRAINYARD_ADMIN_PASSWORD, or generated and printed once."""
    import os

    with rt.session() as session:
        if accounts.any_users(session):
            return
        given = os.environ.get("TRAINYARD_ADMIN_PASSWORD")
        password = given or accounts.new_password()
        accounts.create_user(session, "admin", password, "admin")
        audit.record(session, None, "user.create", "admin", detail={"role": "admin", "by": "init"})
    if given:
        click.echo("created the first admin account 'admin' with the password in TRAINYARD_ADMIN_PASSWORD")
    else:
        click.echo(f"created the first admin account: username admin, password {password}\n"
                   "  (shown only this once: keep it, then sign in and add people under Users)")


def _runtime():
    return current_app.extensions["trainyard"]


def _run(fn, *args):
    """Call a service in one unit of work; a domain error becomes a one-line CLI error, not a traceback."""
    try:
        with _runtime().session() as session:
            return fn(session, *args)
    except DomainError as exc:
        raise click.ClickException(exc.message) from None


users_cli = AppGroup("users", help="Accounts: create, list, change role, disable.")
tokens_cli = AppGroup("tokens", help="API tokens: create (shown once), list, revoke.")
trainyard_cli.add_command(users_cli)
trainyard_cli.add_command(tokens_cli)


@users_cli.command("create")
@click.argument("username")
@click.option("--role", type=click.Choice(accounts.ROLES), default="member", show_default=True)
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True,
              envvar="TRAINYARD_PASSWORD", help="Prompted for when not given (or TRAINYARD_PASSWORD).")
def users_create(username: str, role: str, password: str) -> None:
    """Add an account."""
    def create(session, *_):
        user = accounts.create_user(session, username, password, role)
        audit.record(session, None, "user.create", username, detail={"role": role, "by": "cli"})
        return user
    user = _run(create)
    click.echo(f"created {user.username} ({user.role})")


@users_cli.command("list")
def users_list() -> None:
    for u in _run(accounts.list_users):
        click.echo(f"{u.username}\t{u.role}\t{'disabled' if u.disabled else 'active'}\t"
                   f"last sign-in {u.last_login_at or 'never'}")


@users_cli.command("set-role")
@click.argument("username")
@click.argument("role", type=click.Choice(accounts.ROLES))
def users_set_role(username: str, role: str) -> None:
    user = _run(accounts.set_role, username, role)
    click.echo(f"{user.username} is now {user.role}")


@users_cli.command("disable")
@click.argument("username")
@click.option("--enable", is_flag=True, help="Enable the account again instead.")
def users_disable(username: str, enable: bool) -> None:
    """Disable an account: it can no longer sign in, and its tokens stop working."""
    user = _run(accounts.set_disabled, username, not enable)
    click.echo(f"{user.username} is {'disabled' if user.disabled else 'enabled'}")


@users_cli.command("set-password")
@click.argument("username")
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True, envvar="TRAINYARD_PASSWORD")
def users_set_password(username: str, password: str) -> None:
    _run(accounts.set_password, username, password)
    click.echo(f"password of {username} changed")


@tokens_cli.command("create")
@click.argument("username")
@click.option("--name", required=True, help="What the token is for, e.g. 'ci' or 'laptop'.")
def tokens_create(username: str, name: str) -> None:
    """Create a token and print it once (only its sha256 is stored)."""
    def create(session, *_):
        view, token = tokens.create_token(session, username, name)
        audit.record(session, None, "token.create", f"token {view.id} ({view.name})",
                     detail={"token_id": view.id, "name": view.name, "user": username, "by": "cli"})
        return view, token
    view, token = _run(create)
    click.echo(f"token {view.id} ({view.name}) for {username}; shown only now:")
    click.echo(token)


@tokens_cli.command("list")
@click.option("--user", "username", default=None)
def tokens_list(username: str | None) -> None:
    for t in _run(tokens.list_tokens, username):
        state = "revoked" if t.revoked else f"last used {t.last_used_at or 'never'}"
        click.echo(f"{t.id}\t{t.username}\t{t.name}\t{t.prefix}…\t{state}")


@tokens_cli.command("revoke")
@click.argument("token_id", type=int)
def tokens_revoke(token_id: int) -> None:
    def revoke(session, *_):
        cli_admin = accounts.UserView(0, "(cli)", "admin", False, "", None)  # the operator at the terminal
        view = tokens.revoke_token(session, token_id, cli_admin)
        audit.record(session, None, "token.revoke", f"token {token_id}", detail={"by": "cli"})
        return view
    view = _run(revoke)
    click.echo(f"token {view.id} ({view.name}) of {view.username} revoked")


@trainyard_cli.command("check-db")
def check_db() -> None:
    """Exit non-zero if the database is not at the newest migration, saying what to run."""
    rt = current_app.extensions["trainyard"]
    current, head = migrate.pending(rt.engine, rt.settings.database_url)
    if current != head:
        raise click.ClickException(f"database is at {current}, code expects {head}: "
                                   "run `flask --app app trainyard init`")
    click.echo(f"database at head {head}")
