"""The batch-inference form: inline errors with values kept, and a job that scores."""
from __future__ import annotations

from tests.support import run_job, train_body, wait_for_job


def test_batch_form_submits_and_shows_errors_inline(sqlite_stack):
    c = sqlite_stack.client
    assert c.get("/jobs/new/batch").status_code == 200
    run_job(c, train_body("form-scorer"))
    page = c.get("/jobs/new/batch?model_name=form-scorer").get_data(as_text=True)
    assert 'id="batch-form"' in page and "form-scorer" in page
    bad = c.post("/jobs/new/batch", data={"model_name": "form-scorer", "use": "version", "version": "9",
                                          "dataset": "iris", "chunk_rows": "ten"})
    html = bad.get_data(as_text=True)
    assert bad.status_code == 422 and "must be a whole number" in html and 'value="ten"' in html
    bad = c.post("/jobs/new/batch", data={"model_name": "form-scorer", "use": "version", "version": "9",
                                          "dataset": "iris", "chunk_rows": "1000"})
    assert bad.status_code == 422 and "has no version 9" in bad.get_data(as_text=True)
    ok = c.post("/jobs/new/batch", data={"model_name": "form-scorer", "use": "version", "version": "1",
                                         "dataset": "iris:1", "chunk_rows": "100", "idempotency_key": "batch-k1"})
    assert ok.status_code == 303
    job_id = ok.headers["Location"].rsplit("/", 1)[1]
    again = c.post("/jobs/new/batch", data={"model_name": "form-scorer", "use": "version", "version": "1",
                                            "dataset": "iris:1", "chunk_rows": "100", "idempotency_key": "batch-k1"})
    assert again.headers["Location"].rsplit("/", 1)[1] == job_id  # a double click makes one job
    done = wait_for_job(c, job_id)
    assert done["status"] == "succeeded" and done["metrics"]["scored"] == 150
    page = c.get(f"/jobs/{job_id}").get_data(as_text=True)
    assert "Scores with" in page and "predictions.csv" in page and "Rows" in page
