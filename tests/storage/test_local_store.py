"""The artifact store never lets a path escape its root and publishes atomically."""
from __future__ import annotations

import hashlib
import os

import pytest

from app.storage import LocalStore, UnsafePath


@pytest.fixture
def store(tmp_path):
    return LocalStore(tmp_path / "store")


@pytest.mark.parametrize("rel", [
    "../outside", "a/../../outside", "/etc/passwd", "//etc/passwd", "", "a/\x00b",
    "artifacts/../../x", "\\windows",
])
def test_paths_outside_the_root_are_refused(store, rel):
    with pytest.raises(UnsafePath):
        store.resolve(rel)


def test_a_symlink_pointing_out_of_the_store_is_refused(store, tmp_path):
    (store.root).mkdir(parents=True)
    secret = tmp_path / "secret.txt"
    secret.write_text("no")
    os.symlink(secret, store.root / "link.txt")
    with pytest.raises(UnsafePath):
        store.resolve("link.txt")


def test_publish_copies_with_size_and_sha256_and_leaves_no_temp_file(store, tmp_path):
    src = tmp_path / "model.bin"
    payload = os.urandom(3 * 1024 * 1024 + 17)
    src.write_bytes(payload)
    stored = store.publish(src, "artifacts/job-1/model.bin")
    assert stored.sha256 == hashlib.sha256(payload).hexdigest()
    assert stored.size_bytes == len(payload)
    assert stored.path == "artifacts/job-1/model.bin"
    assert (store.root / stored.path).read_bytes() == payload
    assert [p.name for p in (store.root / "artifacts/job-1").iterdir()] == ["model.bin"]


def test_a_failed_publish_leaves_nothing_behind(store, tmp_path):
    with pytest.raises(FileNotFoundError):
        store.publish(tmp_path / "missing", "artifacts/job-2/model.bin")
    folder = store.root / "artifacts/job-2"
    assert not folder.exists() or list(folder.iterdir()) == []
