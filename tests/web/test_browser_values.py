"""In a real browser: what the new-job form offers, and how values, charts, the log and wide tables read."""
from __future__ import annotations

import re

import pytest

from tests.support import run_job, upload
from tests.web.test_browser import browser, live_url, shot, signed_in_page  # noqa: F401 (fixtures)

pytestmark = pytest.mark.browser
RAW = re.compile(r"\b(null|None|undefined|NaN|true|false|True|False)\b")


def _wine_csv() -> bytes:
    from sklearn.datasets import load_wine

    wine = load_wine()
    lines = [",".join([*wine.feature_names, "label"])]
    lines += [",".join([*(f"{v:g}" for v in row), str(y)]) for row, y in zip(wine.data, wine.target, strict=True)]
    return "\n".join(lines).encode()


def test_the_form_offers_what_the_kind_trains_on_and_marks_scoring_files(browser, live_url, sqlite_stack):  # noqa: F811
    c = sqlite_stack.client
    assert upload(c, "to-score-b", "tabular", b"id,a\nr1,1\nr2,2\n", purpose="scoring").status_code == 201
    page = signed_in_page(browser, live_url, sqlite_stack)
    page.goto(f"{live_url}/jobs/new?kind=mlp")
    offered = page.locator("#dataset option").evaluate_all("os => os.map(o => o.value)")
    assert "iris:1" in offered and not any(v.startswith("to-score-b") for v in offered)
    page.select_option("select[name=kind]", "hierarchical")
    page.wait_for_selector("select[name='params.corpus']")
    corpus = page.locator("select[name='params.corpus'] option").evaluate_all("os => os.map(o => o.value)")
    assert "lee_background:1" in corpus and "iris:1" not in corpus
    assert page.locator("select[name='params.corpus']").input_value() == "lee_background:1"
    page.goto(f"{live_url}/datasets")
    row = page.locator("#datasets tr", has_text="to-score-b")
    assert row.locator(".badge-scoring").inner_text() == "scoring only"
    shot(page, "datasets")
    page.close()


def test_values_charts_log_and_wide_tables_read_well(browser, live_url, sqlite_stack, model_name):  # noqa: F811
    c = sqlite_stack.client
    corpus = "\n".join("zqxv wvyb pqmd " * 3 for _ in range(40)).encode()
    assert upload(c, f"nonsense-{model_name}", "corpus", corpus).status_code == 201
    done = run_job(c, {"kind": "word2vec", "dataset": f"nonsense-{model_name}", "model_name": model_name,
                       "params": {"epochs": 3, "vector_size": 8, "min_count": 1}})
    assert done["metrics"]["analogy_evaluated"] == 0 and done["metrics"]["analogy_accuracy"] is None
    page = signed_in_page(browser, live_url, sqlite_stack)
    page.goto(f"{live_url}/jobs/{done['id']}")
    page.wait_for_selector("#chart-loss polyline.series")
    page.wait_for_function("document.querySelectorAll('#timeline li').length > 3")
    metrics = dict(zip(page.locator("#metrics dt").all_inner_texts(), page.locator("#metrics dd").all_inner_texts(),
                       strict=True))
    assert metrics["analogy_accuracy"] == "not evaluated: all words out of vocabulary"
    assert metrics["wordsim353_spearman"] == "not evaluated: all words out of vocabulary"
    assert re.fullmatch(r"[\d,]+", metrics["words_per_second"]) and metrics["epochs_run"] == "3"
    assert metrics["resumed_from_epoch"] == "—"
    for box in ("#metrics", "#timeline", "table.narrow"):
        assert not RAW.search(page.locator(box).first.inner_text()), box
    # The chart has a colour key: a line in each series' colour before its name.
    key = page.locator("#chart-loss line.legend-key")
    assert key.count() == page.locator("#chart-loss polyline.series").count() >= 1
    series = page.locator("#chart-loss polyline.series")
    assert key.first.get_attribute("stroke") == series.first.get_attribute("stroke")
    # The log panel shows many lines, scrolling within itself.
    log_height = page.locator("#log").evaluate("e => e.getBoundingClientRect().height")
    line_height = page.locator("#log").evaluate("e => parseFloat(getComputedStyle(e).lineHeight) || 16")
    assert log_height >= 10 * line_height
    page.set_viewport_size({"width": 1100, "height": 900})
    shot(page, "job-word2vec")
    version = page.goto(f"{live_url}/models/{model_name}/versions/1")
    assert version.ok and not RAW.search(page.locator("table.narrow").first.inner_text())
    assert "not evaluated: all words out of vocabulary" in page.inner_text("body")
    # A 14-column preview scrolls sideways instead of being cut off.
    assert upload(c, f"wine-{model_name}", "tabular", _wine_csv()).status_code == 201
    page.goto(f"{live_url}/datasets/wine-{model_name}")
    box = page.locator("#preview-box")
    assert page.locator("#preview thead th").count() == 14
    assert box.evaluate("e => getComputedStyle(e).overflowX") == "auto"
    assert box.evaluate("e => e.scrollWidth > e.clientWidth")
    box.evaluate("e => e.scrollLeft = e.scrollWidth")
    last = page.locator("#preview thead th").last
    assert last.inner_text() == "label" and last.is_visible()
    left, right = box.evaluate("e => [e.getBoundingClientRect().left, e.getBoundingClientRect().right]")
    th = last.evaluate("e => [e.getBoundingClientRect().left, e.getBoundingClientRect().right]")
    assert left <= th[0] and th[1] <= right + 1
    shot(page, "dataset-wide")
    # The queued date on the jobs list stays on one line.
    page.goto(f"{live_url}/")
    cell = page.locator("td.when time").first
    height = cell.evaluate("e => e.getBoundingClientRect().height")
    line = cell.evaluate("e => parseFloat(getComputedStyle(e).lineHeight) || 22")
    assert height < 1.5 * line
    page.close()
