"""The first admin on first start, the users/tokens commands, and the SECRET_KEY refusal."""
from __future__ import annotations

import os
import re
import secrets
import stat
import subprocess

import pytest

from app import create_app
from app.config import DEFAULT_SECRET_KEY, PROJECT_ROOT, Settings
from app.web.secret_key import InsecureSecretKey, estimated_bits


def _cli(stack, *args, env=None):
    return stack.app.test_cli_runner().invoke(args=["trainyard", *args], env=env)


def test_init_creates_the_first_admin_once_and_prints_its_password(db_stack):
    out = _cli(db_stack, "init")
    assert out.exit_code == 0, out.output
    password = re.search(r"username admin, password (\S+)", out.output).group(1)
    again = _cli(db_stack, "init")
    assert again.exit_code == 0 and "password" not in again.output  # shown only once
    assert "database at head; 7 built-in datasets present\n" in again.output  # not "0 registered"
    c = db_stack.anon_client
    from tests.conftest import csrf_from

    token = csrf_from(c.get("/login").get_data(as_text=True))
    r = c.post("/login", data={"username": "admin", "password": password, "csrf_token": token})
    assert r.status_code == 303


def test_init_takes_the_admin_password_from_the_environment(db_stack):
    out = _cli(db_stack, "init", env={"TRAINYARD_ADMIN_PASSWORD": "from-the-environment"})
    assert out.exit_code == 0 and "from-the-environment" not in out.output
    assert "TRAINYARD_ADMIN_PASSWORD" in out.output


def test_users_and_tokens_from_the_command_line(db_stack):
    assert _cli(db_stack, "users", "create", "ops", "--role", "viewer", "--password", "ops-password-1").exit_code == 0
    assert "ops\tviewer\tactive" in _cli(db_stack, "users", "list").output
    assert _cli(db_stack, "users", "set-role", "ops", "member").exit_code == 0
    made = _cli(db_stack, "tokens", "create", "ops", "--name", "deploy")
    assert made.exit_code == 0, made.output
    token = made.output.strip().splitlines()[-1]
    auth = {"Authorization": f"Bearer {token}"}
    assert db_stack.anon_client.get("/api/v1/me", headers=auth).get_json()["role"] == "member"
    token_id = made.output.split()[1]
    assert "deploy" in _cli(db_stack, "tokens", "list", "--user", "ops").output
    assert _cli(db_stack, "tokens", "revoke", token_id).exit_code == 0
    assert db_stack.anon_client.get("/api/v1/me", headers=auth).status_code == 401
    assert _cli(db_stack, "users", "disable", "ops").exit_code == 0
    assert "disabled" in _cli(db_stack, "users", "list").output
    bad = _cli(db_stack, "users", "create", "ops", "--password", "ops-password-1")
    assert bad.exit_code != 0 and "exists" in bad.output
    short = _cli(db_stack, "users", "create", "new", "--password", "short")
    assert short.exit_code != 0 and "password" in short.output


@pytest.mark.parametrize("key", [DEFAULT_SECRET_KEY, "", "change-me", "too-short", "aaaaaaaaaaaaaaaa", "k" * 64,
                                 "abc123" * 10, "0123456789abcdef", "dev-not-secret-at-all"])
def test_outside_debug_and_test_mode_a_weak_secret_key_is_refused(tmp_path, key):
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'x.db'}", secret_key=key)
    with pytest.raises(InsecureSecretKey, match=r"SECRET_KEY .*openssl rand"):
        create_app(settings)
    create_app(Settings(database_url=settings.database_url, secret_key=key, debug=True))  # allowed in debug


@pytest.mark.parametrize("make", [lambda: secrets.token_urlsafe(48), lambda: secrets.token_hex(32),
                                  lambda: secrets.token_hex(16), lambda: secrets.token_urlsafe(24)])
def test_random_keys_are_accepted(tmp_path, make):
    """What the message and scripts/run.sh suggest, and a bare random 16 bytes, always pass."""
    for _ in range(200):
        assert estimated_bits(make()) >= 72
    create_app(Settings(database_url=f"sqlite:///{tmp_path / 'x.db'}", secret_key=make()))


def test_the_run_script_generates_and_keeps_a_secret_key(tmp_path):
    script = f'source scripts/lib.sh; VAR="{tmp_path}"; unset SECRET_KEY; ensure_secret_key; echo "$SECRET_KEY"'
    env = {k: v for k, v in os.environ.items() if k != "SECRET_KEY"}
    first = subprocess.run(["bash", "-c", script], cwd=PROJECT_ROOT, capture_output=True, text=True, env=env)
    second = subprocess.run(["bash", "-c", script], cwd=PROJECT_ROOT, capture_output=True, text=True, env=env)
    key = first.stdout.strip()
    assert first.returncode == 0 and len(key) >= 32 and second.stdout.strip() == key
    assert stat.S_IMODE((tmp_path / "secret_key").stat().st_mode) == 0o600
