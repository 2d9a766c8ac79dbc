"""Downloads send only the bytes the registry's sha256 promises; a tampered file is a 409, audited."""
from __future__ import annotations

import hashlib
import os

from app.services import audit, registry
from tests.support import run_job


def flip_a_byte(path) -> None:
    """Change one byte in place, keeping the size and the modification time (only ctime moves)."""
    st = os.stat(path)
    with open(path, "r+b") as fh:
        fh.seek(st.st_size // 2)
        byte = fh.read(1)
        fh.seek(st.st_size // 2)
        fh.write(bytes([byte[0] ^ 0xFF]))
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert os.stat(path).st_size == st.st_size


def test_a_tampered_artifact_is_refused_and_audited_by_the_api_and_the_dashboard(sqlite_stack, model_name):
    c = sqlite_stack.client
    run_job(c, {"kind": "mlp", "dataset": "iris", "model_name": model_name, "params": {"epochs": 2}})
    api = f"/api/v1/models/{model_name}/versions/1/artifacts/model.keras"
    page = f"/models/{model_name}/versions/1/artifacts/model.keras"
    with sqlite_stack.runtime.session() as s:
        artifact = registry.get_artifact(s, model_name, 1, "model.keras")
    good = c.get(api)
    assert good.status_code == 200 and hashlib.sha256(good.get_data()).hexdigest() == artifact.sha256
    assert int(good.headers["Content-Length"]) == artifact.size_bytes
    part = c.get(api, headers={"Range": "bytes=0-9"})
    assert part.status_code == 206 and part.get_data() == good.get_data()[:10]
    assert c.get(api, headers={"If-None-Match": f'"{artifact.sha256}"'}).status_code == 304
    assert c.get(page).status_code == 200

    flip_a_byte(sqlite_stack.runtime.store.resolve(artifact.path))
    for url in (api, page):
        refused = c.get(url)
        assert refused.status_code == 409, url
        assert "X-Checksum-Sha256" not in refused.headers and "Digest" not in refused.headers
        assert "fails its checksum" in refused.get_data(as_text=True)
    assert c.get(api).is_json and c.get(api).get_json()["error"] == "tamperedartifact"
    with sqlite_stack.runtime.session() as s:
        logged = [e for e in audit.entries(s, action="artifact.tampered") if e.target == artifact.path]
    assert len(logged) >= 2 and {e.detail["path"] for e in logged} == {api, page}
