"""One set of cases for every artifact store: the local folder, and fsspec's memory and local filesystems."""
from __future__ import annotations

import hashlib
import io
import os
import uuid

import pytest

from app.storage import LocalStore, Tampered, TooLarge, UnsafePath, make_store
from app.storage.remote import FsspecStore


@pytest.fixture(params=["local", "fsspec-memory", "fsspec-file"])
def store(request, tmp_path):
    if request.param == "local":
        return make_store(tmp_path / "store", tmp_path / "cache")
    if request.param == "fsspec-memory":
        return make_store(f"memory://trainyard-{uuid.uuid4().hex}", tmp_path / "cache")
    return make_store(f"file://{tmp_path / 'remote'}", tmp_path / "cache")


class Exploding(io.RawIOBase):
    """A stream that fails half-way, like a client that hangs up mid-upload."""

    def __init__(self) -> None:
        self.sent = 0

    def read(self, n: int = -1) -> bytes:
        if self.sent > 2 * 1024 * 1024:
            raise ConnectionResetError("client went away")
        self.sent += 1024 * 1024
        return b"x" * 1024 * 1024


def test_the_factory_picks_the_store_by_location(tmp_path):
    assert isinstance(make_store(tmp_path, tmp_path), LocalStore)
    assert isinstance(make_store("memory://x", tmp_path), FsspecStore)


def test_publish_checksums_and_reads_back(store, tmp_path):
    payload = os.urandom(2 * 1024 * 1024 + 5)
    src = tmp_path / "model.keras"
    src.write_bytes(payload)
    assert not store.exists("artifacts/j1/a1/model.keras")
    stored = store.publish(src, "artifacts/j1/a1/model.keras")
    assert stored.sha256 == hashlib.sha256(payload).hexdigest() and stored.size_bytes == len(payload)
    assert stored.path == "artifacts/j1/a1/model.keras" and stored.name == "model.keras"
    assert store.exists(stored.path)
    assert store.verified(stored.path, stored.sha256).read_bytes() == payload
    with store.open(stored.path) as fh:
        assert fh.read() == payload
    assert store.list("artifacts/j1") == ["artifacts/j1/a1/model.keras"]  # no temporary file left


def test_a_stream_that_fails_midway_leaves_nothing(store):
    with pytest.raises(ConnectionResetError):
        store.write_stream(Exploding(), "datasets/d/v1/data.csv")
    assert store.list("datasets") == [] and not store.exists("datasets/d/v1/data.csv")


def test_too_large_leaves_nothing(store):
    with pytest.raises(TooLarge):
        store.write_stream(io.BytesIO(b"y" * 5000), "tmp/upload-1", max_bytes=4096)
    assert store.list("tmp") == []


def test_a_changed_file_fails_verification(store):
    stored = store.write_stream(io.BytesIO(b"weights v1"), "artifacts/j2/a1/model.keras")
    store.write_stream(io.BytesIO(b"weights v2 (swapped behind the registry's back)"), stored.path)
    with pytest.raises(Tampered):
        store.verified(stored.path, stored.sha256)


def test_move_delete_and_remove_tree(store):
    store.write_stream(io.BytesIO(b"a,b\n1,2\n"), "tmp/upload-2")
    store.move("tmp/upload-2", "datasets/p/v1/data.csv")
    assert store.list("tmp") == [] and store.local("datasets/p/v1/data.csv").read_bytes() == b"a,b\n1,2\n"
    store.write_stream(io.BytesIO(b"c"), "checkpoints/j3/a1/state.json")
    store.write_stream(io.BytesIO(b"m"), "checkpoints/j3/a1/model-e1-s0.keras")
    store.delete("checkpoints/j3/a1/model-e1-s0.keras")
    assert store.list("checkpoints/j3") == ["checkpoints/j3/a1/state.json"]
    store.remove_tree("checkpoints/j3")
    assert store.list("checkpoints") == [] and store.exists("datasets/p/v1/data.csv")
    with pytest.raises(FileNotFoundError):
        store.local("checkpoints/j3/a1/state.json")


@pytest.mark.parametrize("rel", ["../outside", "a/../../outside", "/etc/passwd", "", "a/\x00b", "\\windows"])
def test_paths_that_leave_the_store_are_refused(store, rel):
    with pytest.raises(UnsafePath):
        store.write_stream(io.BytesIO(b"no"), rel)
