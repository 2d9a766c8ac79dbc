"""Sign-in throttling: guessing slows down per account and per address; nobody can lock the owner out."""
from __future__ import annotations

import threading
from datetime import timedelta

from app.domain.errors import TooManyAttempts
from app.models import AuditEntry, utcnow
from app.services import accounts
from app.services.login_throttle import LoginLimits, delay_s
from tests.conftest import csrf_from
from tests.support import wait_until


def _client(db_stack, address: str):
    c = db_stack.anon_client
    c.environ_base["REMOTE_ADDR"] = address
    return c


def _login(client, username, password, **headers):
    token = csrf_from(client.get("/login").get_data(as_text=True))
    return client.post("/login", data={"username": username, "password": password, "csrf_token": token},
                       headers=headers)


def _fail(db_stack, n: int, ago_s: float = 0.0, **where) -> None:
    """``n`` recorded failures, as the sign-in form writes them, ``ago_s`` seconds ago."""
    with db_stack.runtime.session() as s:
        for _ in range(n):
            s.add(AuditEntry(at=utcnow() - timedelta(seconds=ago_s), actor=None, action="login_failed",
                             detail={"reason": "bad credentials"}, **{"target": "", **where}))


def test_the_delay_doubles_from_one_second_and_is_capped():
    assert [delay_s(n, 5, 30) for n in range(12)] == [0, 0, 0, 0, 0, 1, 2, 4, 8, 16, 30, 30]
    assert delay_s(10**6, 5, 30) == 30


def test_wrong_passwords_slow_the_account_down_then_the_right_one_gets_in(db_stack, person):
    c = _client(db_stack, "10.0.0.1")
    for _ in range(db_stack.settings.login_free_failures_per_account):
        assert _login(c, person[0], "wrong-password!").status_code == 401
    _fail(db_stack, 2, target=person[0])  # two more just now: the next attempt waits 2 ** 2 = 4 s
    r = _login(c, *person)  # too soon: refused without checking, saying how long to wait
    assert r.status_code == 429 and "this account" in r.get_data(as_text=True)
    assert 1 <= int(r.headers["Retry-After"]) <= 4
    wait_until(lambda: _login(c, *person).status_code == 303, timeout=8, interval=0.5,
               what="the right password to get in once the delay passed")
    other = _client(db_stack, "10.0.0.1")  # other accounts from the same address are untouched
    username, password, _ = db_stack.account("viewer")
    assert _login(other, username, password).status_code == 303


def test_a_flood_of_failures_never_refuses_the_right_password_for_longer_than_the_cap(db_stack, person):
    """1,000 failures from a botnet: the owner waits at most LOGIN_MAX_DELAY_ACCOUNT_S (30 s), not 15 min."""
    _fail(db_stack, 1000, target=person[0], address="198.51.100.7")
    r = _login(_client(db_stack, "10.0.0.5"), *person)
    assert r.status_code == 429 and int(r.headers["Retry-After"]) <= db_stack.settings.login_max_delay_account_s
    _fail(db_stack, 1000, ago_s=31, target=person[0])  # the last failure 31 s ago: no wait at all
    with db_stack.runtime.session() as s:
        s.query(AuditEntry).filter(AuditEntry.target == person[0], AuditEntry.address == "198.51.100.7").delete()
    assert _login(_client(db_stack, "10.0.0.5"), *person).status_code == 303


def test_one_address_guessing_many_accounts_is_slowed_alone(db_stack, person):
    c = _client(db_stack, "10.0.0.2")
    _fail(db_stack, db_stack.settings.login_free_failures_per_address, address="10.0.0.2")
    r = _login(c, *person)
    assert r.status_code == 429 and "this address" in r.get_data(as_text=True)
    assert 1 <= int(r.headers["Retry-After"]) <= db_stack.settings.login_max_delay_address_s
    assert _login(_client(db_stack, "10.0.0.3"), *person).status_code == 303  # everyone else gets in


def test_behind_a_trusted_proxy_clients_are_told_apart_and_otherwise_cannot_forge_it(db_stack, person):
    from app import create_app
    from app.config import Settings

    _fail(db_stack, db_stack.settings.login_free_failures_per_address, address="203.0.113.9")
    # TRUSTED_PROXIES=0 (the default): X-Forwarded-For is ignored, the proxy's address counts
    c = _client(db_stack, "203.0.113.9")
    assert _login(c, *person, **{"X-Forwarded-For": "192.0.2.1"}).status_code == 429
    proxied = create_app(Settings(**{**db_stack.settings.__dict__, "trusted_proxies": 1}))
    try:
        c = proxied.test_client()
        c.environ_base["REMOTE_ADDR"] = "10.9.9.9"  # the proxy
        assert _login(c, *person, **{"X-Forwarded-For": "203.0.113.9"}).status_code == 429  # the guesser
        assert _login(c, *person, **{"X-Forwarded-For": "192.0.2.1"}).status_code == 303  # someone else
    finally:
        proxied.extensions["trainyard"].engine.dispose()


def test_parallel_wrong_passwords_count_each_other(db_stack):
    """Attempts are recorded before the (slow) password check: 12 at once cannot all slip past the limit."""
    rt = db_stack.runtime
    username, _, _ = db_stack.account("member")
    limits = LoginLimits(free_per_account=5, free_per_address=100)
    barrier, outcomes = threading.Barrier(12), []

    def attempt():
        barrier.wait()
        try:
            outcomes.append(accounts.authenticate(rt.session, username, "wrong", "10.0.0.9", limits))
        except TooManyAttempts:
            outcomes.append("limited")

    threads = [threading.Thread(target=attempt) for _ in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    # the free 5, then the 6th (its 1 s delay counts from the 5th, just now) and the rest wait
    assert outcomes.count(None) == 5 and outcomes.count("limited") == 7, outcomes
