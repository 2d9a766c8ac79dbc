"""TrainyardClient: submit, follow, cancel and download over /api/v1, with a bearer token."""
from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import requests

FINISHED = ("succeeded", "failed", "cancelled")
CHUNK = 1024 * 1024


class ApiError(Exception):
    """The server said no: HTTP status, its message and, for bad input, the fields at fault."""

    def __init__(self, status: int, message: str, fields: dict[str, str] | None = None) -> None:
        self.status, self.message, self.fields = status, message, fields or {}
        detail = "; ".join(f"{k}: {v}" for k, v in self.fields.items())
        super().__init__(f"HTTP {status}: {message}" + (f" ({detail})" if detail else ""))


class ChecksumMismatch(Exception):
    """A downloaded file whose sha256 is not the one the registry recorded; it was not kept."""


class TrainyardClient:
    def __init__(self, url: str, token: str | None = None, timeout: float = 30.0) -> None:
        self.url = url.rstrip("/")
        self.timeout = timeout
        self.http = requests.Session()
        if token:
            self.http.headers["Authorization"] = f"Bearer {token}"

    # -- plumbing ---------------------------------------------------------------------------
    def _request(self, method: str, path: str, **kwargs) -> Any:
        r = self.http.request(method, f"{self.url}/api/v1{path}", timeout=self.timeout, **kwargs)
        if r.status_code >= 400:
            try:
                body = r.json()
            except ValueError:
                body = {"message": r.text[:500]}
            raise ApiError(r.status_code, body.get("message") or r.reason, body.get("fields"))
        return r.json()

    # -- sweeps -----------------------------------------------------------------------------
    def create_sweep(self, body: dict[str, Any]) -> dict:
        """Create a sweep from its description (the YAML of `trainyard sweep create`); returns the sweep."""
        return self._request("POST", "/sweeps", json=body)

    def sweep(self, sweep_id: int) -> dict:
        return self._request("GET", f"/sweeps/{int(sweep_id)}")

    def sweeps(self) -> list[dict]:
        return self._request("GET", "/sweeps")["items"]

    def sweep_action(self, sweep_id: int, action: str) -> dict:
        """``pause``, ``resume``, ``cancel`` or ``register`` (the best trial, as a version with its lineage)."""
        return self._request("POST", f"/sweeps/{int(sweep_id)}/{quote(action)}")

    # -- jobs -------------------------------------------------------------------------------
    def submit(self, kind: str, dataset: str, model_name: str, params: dict[str, Any] | None = None, *,
               queue: str | None = None, gpus: int | None = None, idempotency_key: str | None = None) -> dict:
        """Submit a training job; returns the job (its ``id``, ``status``, ``queue``...)."""
        body: dict[str, Any] = {"kind": kind, "dataset": dataset, "model_name": model_name,
                                "params": params or {}}
        if queue:
            body["queue"] = queue
        if gpus is not None:
            body["gpus"] = gpus
        headers = {"Idempotency-Key": idempotency_key} if idempotency_key else {}
        return self._request("POST", "/jobs", json=body, headers=headers)

    def job(self, job_id: str) -> dict:
        return self._request("GET", f"/jobs/{quote(job_id)}")

    def events(self, job_id: str, after: int = 0) -> list[dict]:
        return self._request("GET", f"/jobs/{quote(job_id)}/events", params={"after": after})["items"]

    def logs(self, job_id: str, after: int = 0) -> list[dict]:
        """The job's log lines (and status changes) after event id ``after``."""
        return [e for e in self.events(job_id, after) if e["kind"] in ("log", "status")]

    def cancel(self, job_id: str) -> dict:
        return self._request("POST", f"/jobs/{quote(job_id)}/cancel")

    def wait(self, job_id: str, on_progress: Callable[[dict], None] | None = None, poll_s: float = 1.0,
             timeout: float | None = None) -> dict:
        """Poll until the job ends; ``on_progress`` gets the job after each poll. Returns the final job."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            job = self.job(job_id)
            if on_progress:
                on_progress(job)
            if job["status"] in FINISHED:
                return job
            if deadline is not None and time.monotonic() > deadline:
                raise TimeoutError(f"job {job_id} still {job['status']} after {timeout} s")
            time.sleep(poll_s)

    # -- registry ---------------------------------------------------------------------------
    def versions(self, model: str) -> list[dict]:
        return self._request("GET", f"/models/{quote(model)}/versions")["items"]

    def version(self, model: str, version: int) -> dict:
        return self._request("GET", f"/models/{quote(model)}/versions/{int(version)}")

    def promote(self, model: str, version: int, alias: str = "production", reason: str = "",
                expected_version: int | None = None) -> dict:
        body: dict[str, Any] = {"version": version, "reason": reason}
        if expected_version is not None:
            body["expected_version"] = expected_version
        return self._request("POST", f"/models/{quote(model)}/aliases/{quote(alias)}", json=body)

    def rollback(self, model: str, alias: str = "production", reason: str = "") -> dict:
        return self._request("POST", f"/models/{quote(model)}/aliases/{quote(alias)}/rollback",
                             json={"reason": reason})

    def download(self, model: str, version: int, filename: str, dest: Path) -> Path:
        """Download one artifact to ``dest``, resuming a partial ``dest.part``; sha256-checked.

        The partial file is continued with an HTTP Range request guarded by If-Range (the
        artifact's sha256 is its ETag), so a changed file restarts the download from zero.
        """
        meta = next((a for a in self.version(model, version)["artifacts"] if a["name"] == filename), None)
        if meta is None:
            raise ApiError(404, f"{model} v{version} has no artifact {filename!r}")
        if not safe_name(filename):
            raise ApiError(400, f"refusing the artifact name {filename!r}: not a plain file name")
        dest = Path(dest)
        part = dest.with_name(dest.name + ".part")
        dest.parent.mkdir(parents=True, exist_ok=True)
        have = part.stat().st_size if part.exists() else 0
        headers = {"Range": f"bytes={have}-", "If-Range": f'"{meta["sha256"]}"'} if have else {}
        url = f"{self.url}/api/v1/models/{quote(model)}/versions/{int(version)}/artifacts/{quote(filename)}"
        with self.http.get(url, headers=headers, stream=True, timeout=self.timeout) as r:
            if r.status_code == 416:  # the partial file is already whole (or longer): start again
                part.unlink()
                return self.download(model, version, filename, dest)
            if r.status_code >= 400:
                raise ApiError(r.status_code, r.text[:500])
            mode = "ab" if r.status_code == 206 else "wb"
            with open(part, mode) as out:
                for chunk in r.iter_content(CHUNK):
                    out.write(chunk)
        actual = _sha256(part)
        if actual != meta["sha256"]:
            part.unlink()
            raise ChecksumMismatch(f"{filename}: sha256 {actual[:12]}… but the registry says {meta['sha256'][:12]}…")
        part.replace(dest)
        return dest

    def download_all(self, model: str, version: int, folder: Path) -> Iterator[Path]:
        for a in self.version(model, version)["artifacts"]:
            yield self.download(model, version, a["name"], Path(folder) / a["name"])


def safe_name(name: str) -> bool:
    """A plain file name: no folders, no '..', nothing hidden (names come from the server)."""
    return bool(name) and Path(name).name == name and not name.startswith(".") and "\\" not in name


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()
