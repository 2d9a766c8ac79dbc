"""Uploads through gunicorn as the repository configures it (gunicorn.conf.py, two workers, as deployed).

With sync workers two uploads in progress held both workers: nothing else was answered until they ended,
and one past 30 s got its worker killed (an HTML 500). Here two uploads stall mid-body while the health
check must still answer at once, and then both complete.
"""
from __future__ import annotations

import secrets
import socket
import subprocess
import sys
import time

import requests

from app.config import PROJECT_ROOT
from tests.support import free_port, settings_env, wait_until


def digits_csv(rows: int) -> bytes:
    """A valid tabular file shaped like the slow case: 64 small-integer columns, 10 classes."""
    lines = [",".join(f"p{i}" for i in range(64)) + ",label"]
    lines += [",".join(str((r * 7 + i) % 17) for i in range(64)) + f",{r % 10}" for r in range(rows)]
    return ("\n".join(lines) + "\n").encode()


def start_upload(port: int, token: str, name: str, body: bytes, sent: int) -> socket.socket:
    """A raw-body upload whose first ``sent`` bytes are on the wire and the rest still to come."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=60)
    head = (f"POST /api/v1/datasets?name={name}&kind=tabular HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            f"Authorization: Bearer {token}\r\nContent-Type: text/csv\r\nContent-Length: {len(body)}\r\n"
            "Connection: close\r\n\r\n")
    sock.sendall(head.encode() + body[:sent])
    return sock


def finish(sock: socket.socket, rest: bytes) -> str:
    """Send the rest of the body; the status line and body of the answer."""
    sock.sendall(rest)
    answer = b""
    while chunk := sock.recv(65536):
        answer += chunk
    sock.close()
    return answer.decode(errors="replace")


def test_two_uploads_in_progress_leave_the_web_free_and_both_complete(db_stack, tmp_path):
    port = free_port()
    log = open(tmp_path / "gunicorn.log", "wb")
    env = {**settings_env(db_stack.settings), "SECRET_KEY": secrets.token_hex(32)}
    proc = subprocess.Popen([sys.executable, "-m", "gunicorn", "--bind", f"127.0.0.1:{port}", "--workers", "2",
                             "app:create_app()"], cwd=PROJECT_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until(lambda: proc.poll() is not None or _answers(f"{base}/api/v1/health"),
                   timeout=60, what="gunicorn", interval=0.2)
        assert proc.poll() is None, (tmp_path / "gunicorn.log").read_text(errors="replace")[-3000:]
        body = digits_csv(20_000)
        token = db_stack.account("admin")[2]
        half = len(body) // 2
        socks = [start_upload(port, token, f"slow{n}", body, half) for n in range(2)]
        t0 = time.monotonic()
        health = requests.get(f"{base}/api/v1/health", timeout=10)
        assert health.status_code == 200 and time.monotonic() - t0 < 2, health.text
        answers = [finish(sock, body[half:]) for sock in socks]
        for answer in answers:
            assert answer.startswith("HTTP/1.1 201"), answer[:500]
            assert '"rows":20000' in answer
    finally:
        proc.terminate()
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)
        log.close()
    assert "WORKER TIMEOUT" not in (tmp_path / "gunicorn.log").read_text(errors="replace")


def _answers(url: str) -> bool:
    try:
        return requests.get(url, timeout=2).status_code == 200
    except requests.RequestException:
        return False
