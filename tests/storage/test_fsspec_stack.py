"""The whole platform on an fsspec URL store: upload, train (checkpoints), download, predict.

``file://`` is fsspec's local filesystem behind the URL interface, so the web process and a
worker process share it as they would share ``s3://``; nothing may fall back to a local path.
"""
from __future__ import annotations

import hashlib

from app import create_app
from app.config import Settings
from app.migrate import upgrade
from app.services.datasets import ensure_builtin_datasets
from app.storage.remote import FsspecStore
from tests.serve.process import start_serve, wait_ready
from tests.support import admin_token, free_port, run_job, start_worker, train_body, upload


def test_train_download_and_predict_through_a_url_store(tmp_path, model_name, redis_dbs):
    remote = tmp_path / "bucket"
    redis_url = redis_dbs.url("fsspec")
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'ty.db'}", redis_url=redis_url,
                        models_store=f"file://{remote}", models_cache=tmp_path / "web-cache", testing=True,
                        redispatch_after_s=3600, reconcile_interval_s=3600,
                        serve_url=f"http://127.0.0.1:{free_port()}")
    upgrade(settings.database_url)
    app = create_app(settings)
    rt = app.extensions["trainyard"]
    assert isinstance(rt.store, FsspecStore)
    with rt.session() as session:
        ensure_builtin_datasets(session)
    worker_settings = Settings(**{**settings.__dict__, "models_cache": tmp_path / "worker-cache"})
    worker = start_worker(worker_settings, tmp_path / "worker.log", "fsspec")
    serve = None
    try:
        c = app.test_client()
        c.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {admin_token(rt)}"
        csv = "a,b,label\n" + "\n".join(f"{i % 7},{i % 5},{'x' if i % 2 else 'y'}" for i in range(120))
        up = upload(c, f"tab-{model_name}", "tabular", csv.encode(), label_column="label")
        assert up.status_code == 201, up.get_data(as_text=True)
        assert (remote / "datasets" / f"tab-{model_name}" / "v1" / "data.csv").read_text() == csv
        assert c.get(f"/api/v1/datasets/tab-{model_name}/versions/1/preview").get_json()["rows"][0] == ["0", "0", "y"]
        run_job(c, train_body(f"{model_name}-up", dataset=f"tab-{model_name}", params={"epochs": 2}))
        done = run_job(c, train_body(model_name, params={"epochs": 3, "batch_size": 16}))
        v = c.get(f"/api/v1/models/{model_name}/versions/{done['version']}").get_json()
        model = next(a for a in v["artifacts"] if a["name"] == "model.keras")
        assert (remote / "artifacts").is_dir() and not list(remote.rglob(".tmp-*"))
        body = c.get(model["url"]).get_data()
        assert hashlib.sha256(body).hexdigest() == model["sha256"]
        assert not list((remote / "checkpoints").rglob("*.keras"))  # the job's checkpoints were cleared
        c.post(f"/api/v1/models/{model_name}/aliases/production", json={"version": 1, "reason": "first"})
        serve = start_serve(settings, tmp_path / "serve.log")  # it reads the version from the URL store too
        wait_ready(settings, serve)
        r = c.post(f"/api/v1/models/{model_name}/predict", json={"instances": [[5.1, 3.5, 1.4, 0.2]]})
        assert r.status_code == 200 and r.get_json()["predictions"][0]["label"] == "setosa"
    finally:
        worker.stop()
        if serve is not None:
            serve.stop()
        rt.engine.dispose()
