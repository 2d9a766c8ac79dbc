"""The dashboard path a person takes: form -> job page -> version page -> download -> predict."""
from __future__ import annotations

import re

import numpy as np

from app.data.builtin import BUILTINS
from app.data.split import holdout_split
from tests.support import wait_for_job


def test_form_to_a_model_that_predicts_digits(sqlite_stack, model_name, tmp_path):
    c = sqlite_stack.client
    form = c.get("/jobs/new?kind=mlp")
    assert form.status_code == 200
    key = re.search(r'name="idempotency_key" value="([^"]+)"', form.get_data(as_text=True)).group(1)
    fields = {"kind": "mlp", "idempotency_key": key, "model_name": model_name, "dataset": "digits:1",
              "params.epochs": "15", "params.batch_size": "32", "params.hidden_units": "64",
              "params.learning_rate": "0.003", "queue": "cpu"}
    r = c.post("/jobs/new", data=fields)
    assert r.status_code == 303
    job_url = r.headers["Location"]
    # A double-click sends the same form twice: still one job.
    assert c.post("/jobs/new", data=fields).headers["Location"] == job_url
    job_id = job_url.rsplit("/", 1)[1]
    page = c.get(job_url).get_data(as_text=True)
    assert 'id="bar"' in page and "job.js" in page

    done = wait_for_job(c, job_id)
    assert done["status"] == "succeeded", done["error"]
    page = c.get(job_url).get_data(as_text=True)
    version_url = f"/models/{model_name}/versions/{done['version']}"
    assert version_url in page

    version_page = c.get(version_url).get_data(as_text=True)
    for name in ("model.keras", "metrics.json", "history.csv"):
        assert name in version_page
    link = re.search(r'href="([^"]+/artifacts/model\.keras)"', version_page).group(1)
    download = c.get(link)
    assert download.status_code == 200
    path = tmp_path / "model.keras"
    path.write_bytes(download.get_data())

    import keras

    model = keras.models.load_model(path)
    _, X_test, _, y_test = holdout_split(BUILTINS["digits"].loader())
    accuracy = float(np.mean(np.argmax(model.predict(X_test, verbose=0), axis=1) == y_test))
    assert accuracy >= 0.9


def test_form_errors_are_shown_next_to_the_field_and_values_kept(sqlite_stack):
    c = sqlite_stack.client
    r = c.post("/jobs/new", data={"kind": "mlp", "model_name": "keep-me", "dataset": "digits",
                                  "params.epochs": "0", "params.learning_rate": "fast"})
    assert r.status_code == 422
    html = r.get_data(as_text=True)
    assert "must be between 1 and 1000" in html and "must be a number" in html
    assert 'value="keep-me"' in html and 'value="fast"' in html


def test_pages_render_and_have_empty_states(sqlite_stack):
    c = sqlite_stack.client
    for url in ("/", "/models", "/datasets", "/jobs/new", "/?status=failed", "/workers"):
        r = c.get(url)
        assert r.status_code == 200, url
        title = r.get_data(as_text=True).split("<title>", 1)[1].split("</title>", 1)[0]
        assert "<" not in title and title.endswith("· Trainyard"), (url, title)
    # A model name nobody uses: other tests sharing this stack may have cancelled jobs of their own.
    assert "No jobs with status" in c.get("/?status=cancelled&model=no-such-model").get_data(as_text=True)
    missing = c.get("/jobs/not-a-job")
    assert missing.status_code == 404 and "Back to jobs" in missing.get_data(as_text=True)
    assert c.get("/models/none/versions/1").status_code == 404


def test_static_assets_are_served_from_the_app(sqlite_stack):
    c = sqlite_stack.client
    page = c.get("/").get_data(as_text=True)
    assert 'href="/static/app.css"' in page
    for asset in ("/static/app.css", "/static/job.js"):
        r = c.get(asset)
        assert r.status_code == 200 and len(r.get_data()) > 100, asset


def test_workers_page_lists_the_online_worker_and_the_job_log(sqlite_stack, model_name):
    from tests.support import run_job, wait_until

    done = run_job(sqlite_stack.client, {"kind": "mlp", "dataset": "iris", "model_name": model_name,
                                         "params": {"epochs": 1}})
    html = wait_until(lambda: (h := sqlite_stack.client.get("/workers").get_data(as_text=True))
                      and "sqlite-only" in h and h, timeout=30, what="the worker to answer")
    assert "cpu, gpu" in html
    assert "<title>Workers · Trainyard</title>" in html and html.count('id="workers"') == 1
    assert "CPU only" in html and "idle" in html  # its heartbeat row: no GPU advertised, no job now
    page = sqlite_stack.client.get(f"/jobs/{done['id']}").get_data(as_text=True)
    assert "loaded dataset" in page and "publishing" in page
    assert "Re-run with these parameters" in page
    rerun = sqlite_stack.client.get(f"/jobs/new?rerun={done['id']}").get_data(as_text=True)
    assert f'value="{model_name}"' in rerun and 'name="params.epochs" value="1"' in rerun
