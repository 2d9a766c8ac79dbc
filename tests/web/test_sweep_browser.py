"""A person in a real browser drives the sweep form (generated from the kind's parameters) and reads the live
sweep page, while a real worker trains the trials and a real beat makes the sweep's decisions."""
from __future__ import annotations

import pytest

from tests.support import start_beat
from tests.web.test_browser import browser, live_url, shot, signed_in_page  # noqa: F401 (fixtures)

pytestmark = pytest.mark.browser


def test_a_person_starts_a_sweep_from_the_form_and_watches_it(browser, live_url, sqlite_stack, model_name,  # noqa: F811
                                                               tmp_path):
    beat = start_beat(sqlite_stack.settings, tmp_path, "sweep-browser", SWEEP_TICK_S="0.5")
    try:
        page = signed_in_page(browser, live_url, sqlite_stack)
        page.get_by_role("link", name="Sweeps").first.click()
        page.click("#new-sweep")
        page.fill("#model_name", model_name)
        page.select_option("#dataset", "iris:1")
        page.select_option("[name='space.hidden_units.mode']", "list")
        page.fill("[name='space.hidden_units.values']", "4, 32")
        page.select_option("[name='space.dropout.mode']", "range")
        page.fill("[name='space.dropout.min']", "0")
        page.fill("[name='space.dropout.max']", "2")  # above the kind's declared 0.9
        page.fill("[name='space.batch_size.value']", "16")
        page.fill("[name='budget.trials']", "3")
        page.fill("[name='budget.parallel']", "1")
        page.fill("[name='budget.epochs']", "3")
        page.click("#start-sweep")
        error = page.locator("#sweep-errors [data-field='space.dropout.max']")
        assert "between" in error.inner_text()
        page.fill("[name='space.dropout.max']", "0.5")
        page.select_option("#strategy", "random")
        page.click("#start-sweep")
        page.wait_for_url("**/sweeps/*")
        page.wait_for_selector("#trials tbody tr[data-trial='0']", timeout=60_000)  # the page updates itself
        page.wait_for_selector("#sweep-status .badge-finished", timeout=240_000)
        rows = page.locator("#trials tbody tr")
        assert rows.count() == 3
        assert [rows.nth(i).get_attribute("data-status") for i in range(3)] == ["completed"] * 3
        assert page.locator("#parallel-coordinates polyline.pc-line").count() == 3
        axes = page.locator("#parallel-coordinates text.tick").evaluate_all("els => els.map(e => e.textContent)")
        assert axes == ["hidden_units", "dropout", "val_accuracy"]
        assert page.locator("#trials thead th").all_inner_texts()[1:3] == ["hidden_units", "dropout"]
        assert rows.nth(0).locator("td").nth(1).inner_text() in ("4", "32")
        assert page.locator("#chart-best polyline.series").count() >= 1
        assert page.inner_text("#epochs-spent") == "9" and page.inner_text("#trials-started") == "3/3"
        shot(page, "sweep")
        page.reload()
        page.click("#sweep-register")
        page.wait_for_url(f"**/models/{model_name}/versions/1")
    finally:
        beat.stop()
