"""Hostile input: paths that try to leave the store, oversized requests, unbounded parameters, pickles."""
from __future__ import annotations

import ast
import os
from pathlib import Path

import pytest

from app.config import PROJECT_ROOT
from app.domain.errors import Invalid
from app.kinds import KINDS
from app.serve.inputs import parse_instances
from app.storage import LocalStore, UnsafePath


@pytest.fixture
def store(tmp_path):
    s = LocalStore(tmp_path / "store")
    s.root.mkdir(parents=True)
    return s


@pytest.mark.parametrize("rel", [
    "../x", "./../x", "a/./../../x", "a/b/../../../x", "/abs/x", "\\\\server\\share", "a/../..",
    str(Path("/etc/passwd")), "..", "../store-sibling/x",
])
def test_traversal_and_absolute_paths_are_refused(store, rel):
    with pytest.raises(UnsafePath):
        store.resolve(rel)


@pytest.mark.parametrize("rel", ["%2e%2e/x", "..%2fx", "%2e%2e%2f%2e%2e%2fetc%2fpasswd", "..%5cx", "a/%2E%2E/b"])
def test_url_encoded_dots_are_never_decoded_so_they_stay_inside(store, rel):
    resolved = store.resolve(rel)
    assert store.root in resolved.parents


def test_symlinked_folders_and_files_that_lead_out_are_refused(store, tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text("no")
    os.symlink(outside, store.root / "linkdir")
    os.symlink(outside / "secret.txt", store.root / "link.txt")
    os.symlink("../outside/secret.txt", store.root / "relative-link")
    for rel in ("linkdir/secret.txt", "linkdir", "link.txt", "relative-link"):
        with pytest.raises(UnsafePath):
            store.resolve(rel)
    inside = store.root / "real"
    inside.mkdir()
    os.symlink(inside, store.root / "inner-link")  # a link that stays inside is fine
    assert store.resolve("inner-link") == inside


def test_a_sibling_folder_with_the_roots_name_as_prefix_is_outside(store, tmp_path):
    (tmp_path / "store-evil").mkdir()
    with pytest.raises(UnsafePath):
        store.resolve("../store-evil/x")


@pytest.mark.parametrize("filename", ["..%2F..%2Fetc%2Fpasswd", "..%2Fx", "%2e%2e", "....//x"])
def test_download_routes_never_turn_a_filename_into_a_path(db_stack, filename):
    for prefix in ("/api/v1", ""):
        r = db_stack.client.get(f"{prefix}/models/m/versions/1/artifacts/{filename}")
        assert r.status_code == 404, (prefix, filename, r.status_code)


def test_an_uploaded_files_name_is_never_used_as_a_path(db_stack, tmp_path):
    c = db_stack.browser_client("member")
    r = c.post("/datasets", content_type="multipart/form-data", data={
        "name": "named-corpus", "kind": "corpus", "csrf_token": c.csrf,
        "file": (__import__("io").BytesIO(b"alpha beta gamma\ndelta epsilon\n"), "../../../evil-name.txt")})
    assert r.status_code == 303, r.get_data(as_text=True)[:300]
    assert not list(tmp_path.parent.rglob("evil-name.txt")) and not list(db_stack.tmp.rglob("evil-name*"))


def test_requests_are_size_limited_and_uploads_have_their_own_limit(db_stack):
    from app import create_app
    from app.config import Settings

    small = create_app(Settings(**{**db_stack.settings.__dict__, "max_request_bytes": 2000}))
    c = small.test_client()
    c.environ_base["HTTP_AUTHORIZATION"] = db_stack.auth()["Authorization"]
    r = c.post("/api/v1/jobs", json={"kind": "mlp", "dataset": "iris", "model_name": "x" * 5000})
    assert r.status_code == 413 and r.get_json()["error"] == "request_entity_too_large"
    assert r.get_json()["setting"] == "MAX_REQUEST_BYTES" and "(MAX_REQUEST_BYTES)" in r.get_json()["message"]
    from tests.support import upload

    assert upload(c, "bigger-than-a-request", "corpus", b"word " * 1000).status_code == 201
    small.extensions["trainyard"].engine.dispose()


# The most any one request may ask for, per parameter name: one job cannot take the machine.
CAPS = {"epochs": 1000, "w2v_epochs": 1000, "batch_size": 8192, "hidden_units": 4096, "dense_units": 4096,
        "units": 1024, "hidden_layers": 16, "conv_layers": 8, "rnn_layers": 8, "max_tokens": 200_000,
        "sequence_length": 2000, "embedding_dim": 1024, "vector_size": 1000, "w2v_vector_size": 1000,
        "max_vocab_size": 5_000_000, "filters": 512, "kernel_size": 9, "window": 50, "w2v_window": 50}


def test_every_numeric_parameter_is_bounded_in_its_declaration():
    for spec in KINDS.values():
        for p in spec.params:
            if p.type in (int, float):
                assert p.min is not None and p.max is not None, f"{spec.name}.{p.name} has no bounds"
                if p.name in CAPS:
                    assert p.max <= CAPS[p.name], f"{spec.name}.{p.name} allows {p.max}, more than {CAPS[p.name]}"
                _, errors = spec.validate({p.name: p.max * 10 + 1})
                assert f"params.{p.name}" in errors


def test_instances_per_predict_call_are_a_setting():
    parse_instances(KINDS["mlp"].input, {"features": [{"name": "a"}]}, [[1.0]] * 5, max_instances=5)
    with pytest.raises(Invalid, match="at most 5 instances") as refused:
        parse_instances(KINDS["mlp"].input, {"features": [{"name": "a"}]}, [[1.0]] * 6, max_instances=5)
    assert refused.value.status_code == 413
    assert refused.value.details == {"limit": 5, "setting": "MAX_PREDICT_INSTANCES"}


def _calls(root: Path):
    for path in list((root / "app").rglob("*.py")) + list((root / "workers").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call):
                yield path.relative_to(root), node


def test_nothing_is_deserialised_unsafely():
    """Keras loads with safe_mode=True; no pickle, joblib or gensim .load anywhere; numpy refuses pickles."""
    found_keras = 0
    for path, call in _calls(PROJECT_ROOT):
        name = ast.unparse(call.func)
        kwargs = {k.arg: ast.unparse(k.value) for k in call.keywords}
        if name.endswith("load_model"):
            found_keras += 1
            assert kwargs.get("safe_mode") == "True", f"{path}:{call.lineno} loads Keras without safe_mode=True"
        assert not name.startswith(("pickle.", "joblib.", "dill.", "cloudpickle.")), f"{path}:{call.lineno}: {name}"
        assert not (name.endswith(".load") and any(k in name for k in ("Word2Vec", "KeyedVectors", "Doc2Vec"))), \
            f"{path}:{call.lineno}: gensim's pickle-based load; read vectors.txt (verified) instead"
        if name in ("np.load", "numpy.load"):
            assert kwargs.get("allow_pickle") == "False", f"{path}:{call.lineno}: np.load must refuse pickles"
    assert found_keras >= 2


def test_a_tampered_dataset_is_refused_by_the_worker_and_audited(sqlite_stack, model_name):
    """The worker checks an uploaded dataset's sha256 before training on it (serving: tests/api/test_predict.py)."""
    from app.services import audit
    from tests.support import train_body, upload, wait_for_job

    c = sqlite_stack.client
    rows = "a,b,label\n" + "\n".join(f"{i},{i % 3},{'x' if i % 2 else 'y'}" for i in range(60))
    assert upload(c, f"t-{model_name}", "tabular", rows.encode()).status_code == 201
    (path,) = (sqlite_stack.runtime.store.root / "datasets" / f"t-{model_name}" / "v1").glob("data.*")
    path.write_bytes(path.read_bytes().replace(b"label", b"lab3l"))
    job = c.post("/api/v1/jobs", json=train_body(model_name, dataset=f"t-{model_name}")).get_json()
    done = wait_for_job(c, job["id"])
    assert done["status"] == "failed" and "refused a tampered input" in done["error"]
    assert "fails its checksum" in done["error"]
    with sqlite_stack.runtime.session() as s:
        logged = [e for e in audit.entries(s, action="artifact.tampered") if e.detail.get("job") == job["id"]]
    assert logged and logged[0].detail["job_created_by"] == "test-admin"
