"""The web process as the Procfile runs it (Granian, 2 workers x 4 request threads): uploads, limits, respawn.

Two uploads that stall mid-body must not stop the web from answering (each holds one thread, not a
process); an upload announced over the limit is refused before its body is read; a web worker that dies
is started again, as gunicorn's arbiter did before the web moved to Granian.
"""
from __future__ import annotations

import os
import secrets
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from app.config import PROJECT_ROOT
from tests.commands import web_args
from tests.support import die_with_parent, free_port, settings_env, wait_until


def digits_csv(rows: int) -> bytes:
    """A valid tabular file shaped like the slow case: 64 small-integer columns, 10 classes."""
    lines = [",".join(f"p{i}" for i in range(64)) + ",label"]
    lines += [",".join(str((r * 7 + i) % 17) for i in range(64)) + f",{r % 10}" for r in range(rows)]
    return ("\n".join(lines) + "\n").encode()


def start_upload(port: int, token: str, name: str, body: bytes, sent: int, length: int | None = None
                 ) -> socket.socket:
    """A raw-body upload whose first ``sent`` bytes are on the wire and the rest still to come."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=60)
    head = (f"POST /api/v1/datasets?name={name}&kind=tabular HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            f"Authorization: Bearer {token}\r\nContent-Type: text/csv\r\n"
            f"Content-Length: {len(body) if length is None else length}\r\nConnection: close\r\n\r\n")
    sock.sendall(head.encode() + body[:sent])
    return sock


def finish(sock: socket.socket, rest: bytes) -> str:
    """Send the rest of the body; the status line and body of the answer."""
    sock.sendall(rest)
    return answer(sock)


def answer(sock: socket.socket) -> str:
    """Everything the server sends until it closes the connection (a reset after the answer ends it too:
    a server that answers before reading the body may reset the connection on the unread rest)."""
    got = b""
    try:
        while chunk := sock.recv(65536):
            got += chunk
    except ConnectionResetError:
        pass
    sock.close()
    return got.decode(errors="replace")


class Web:
    """The Procfile's web command on a free port, its own process group, logging to a file."""

    def __init__(self, env: dict[str, str], log_path) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log_path = log_path
        with open(log_path, "wb") as log:
            self.proc = subprocess.Popen([sys.executable, "-m", *web_args(self.port, 2, 4, "--access-log")],
                                         cwd=PROJECT_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
                                         start_new_session=True, preexec_fn=die_with_parent)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def wait_up(self) -> None:
        wait_until(lambda: self.proc.poll() is not None or _answers(f"{self.base}/api/v1/health"),
                   timeout=90, what="the web to answer", interval=0.2)
        assert self.proc.poll() is None, self.log()[-3000:]

    def workers(self) -> set[int]:
        """Pids of the web's live worker processes (the children of Granian's main process), from /proc."""
        kids = set()
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
            except (OSError, IndexError):
                continue  # gone meanwhile
            if fields[1] == str(self.proc.pid) and fields[0] != "Z":
                kids.add(int(stat.parent.name))
        return kids

    def stop(self) -> None:
        for sig, wait in ((signal.SIGTERM, 30), (signal.SIGKILL, 10)):
            try:
                os.killpg(self.proc.pid, sig)
                self.proc.wait(wait)
                return
            except ProcessLookupError:
                return
            except subprocess.TimeoutExpired:
                continue


@pytest.fixture
def web(db_stack, tmp_path) -> Iterator[Web]:
    env = {**settings_env(db_stack.settings), "SECRET_KEY": secrets.token_hex(32),
           "UPLOAD_MAX_BYTES": str(8 * 1024 * 1024)}
    server = Web(env, tmp_path / "web.log")
    try:
        server.wait_up()
        yield server
    finally:
        server.stop()


def test_two_uploads_in_progress_leave_the_web_free_and_both_complete(db_stack, web):
    body = digits_csv(20_000)
    token = db_stack.account("admin")[2]
    half = len(body) // 2
    socks = [start_upload(web.port, token, f"slow{n}", body, half) for n in range(2)]
    # Each stalled upload holds a thread, not a process: the web answers while both wait for their bodies
    # (a server that gave each upload its process would answer nothing until one of them ended).
    health = requests.get(f"{web.base}/api/v1/health", timeout=30)
    assert health.status_code == 200, health.text
    answers = [finish(sock, body[half:]) for sock in socks]
    for got in answers:
        assert got.startswith("HTTP/1.1 201"), got[:500]
        assert '"rows":20000' in got


def test_an_upload_announced_over_the_limit_is_refused_before_its_body_is_read(db_stack, web):
    """Content-Length over UPLOAD_MAX_BYTES: a 413 naming the limit while the body is still to come,
    and nothing registered."""
    token = db_stack.account("admin")[2]
    sock = start_upload(web.port, token, "huge", b"p0,label\n" * 1000, 9000, length=64 * 1024 * 1024)
    got = answer(sock)  # the server answers without waiting for the other 64 MiB
    assert got.startswith("HTTP/1.1 413"), got[:500]
    assert '"setting":"UPLOAD_MAX_BYTES"' in got and "limit of 8,388,608 bytes" in got, got[-500:]
    listed = requests.get(f"{web.base}/api/v1/datasets", headers={"Authorization": f"Bearer {token}"}, timeout=10)
    assert "huge" not in {d["name"] for d in listed.json()["items"]}, listed.text[:500]


def test_a_web_worker_that_dies_is_started_again(web):
    first = web.workers()
    assert len(first) == 2, (first, web.log()[-2000:])
    victim = min(first)
    os.kill(victim, signal.SIGKILL)
    wait_until(lambda: len(web.workers() - {victim}) == 2, timeout=90, what="a new web worker", interval=0.2)
    wait_until(lambda: _answers(f"{web.base}/api/v1/health"), timeout=30, what="the web to answer", interval=0.2)
    for _ in range(10):  # the web answers on; the new worker stays up (it did not crash at start)
        assert requests.get(f"{web.base}/api/v1/health", timeout=30).status_code == 200
    assert len(web.workers() - {victim}) == 2, web.log()[-2000:]


def _answers(url: str) -> bool:
    try:
        return requests.get(url, timeout=2).status_code == 200
    except requests.RequestException:
        return False
