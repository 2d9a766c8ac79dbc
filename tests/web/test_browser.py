"""A person in a real browser (Debian's chromium via Playwright): form -> live job page -> version."""
from __future__ import annotations

import shutil
import threading
from collections.abc import Iterator

import pytest
from werkzeug.serving import make_server

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def live_url(sqlite_stack) -> Iterator[str]:
    server = make_server("127.0.0.1", 0, sqlite_stack.app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


@pytest.fixture(scope="module")
def browser():
    if not shutil.which("chromium") and not shutil.which(CHROMIUM):
        pytest.skip("Debian's chromium is not installed (scripts/test.sh installs it as root)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", "--no-first-run"])
        yield b
        b.close()


def test_a_person_trains_a_model_and_watches_it_live(browser, live_url, model_name, tmp_path):
    page = browser.new_page()
    page.goto(f"{live_url}/")
    page.get_by_role("link", name="New training job").first.click()
    page.fill("#model_name", model_name)
    page.select_option("#dataset", "iris:1")
    page.fill("[name='params.epochs']", "40")
    page.fill("[name='params.batch_size']", "8")
    page.get_by_role("button", name="Start training").click()
    page.wait_for_url("**/jobs/*")
    url_before = page.url
    # The page updates itself: the badge turns to succeeded and a version link appears, no reload.
    page.wait_for_selector(".badge-succeeded", timeout=120_000)
    page.wait_for_selector("#version-link", timeout=10_000)
    assert page.url == url_before
    assert page.inner_text("#epoch") == "40"
    assert "test_accuracy" in page.inner_text("#metrics")
    assert page.locator("#timeline li").count() >= 40  # every epoch event arrived while watching
    page.click("#version-link")
    page.wait_for_selector("#artifacts")
    text = page.inner_text("#artifacts")
    for name in ("model.keras", "metrics.json", "history.csv"):
        assert name in text
    page.screenshot(path=str(tmp_path / "version.png"), full_page=True)
    assert (tmp_path / "version.png").stat().st_size > 10_000
    page.close()


def test_inline_errors_in_the_browser(browser, live_url):
    page = browser.new_page()
    page.goto(f"{live_url}/jobs/new")
    page.fill("#model_name", "bad name with spaces")
    page.fill("[name='params.epochs']", "0")
    page.get_by_role("button", name="Start training").click()
    errors = page.locator(".field-error").all_inner_texts()
    assert any("letters, digits" in e for e in errors)
    assert any("between 1 and 1000" in e for e in errors)
    assert page.input_value("[name='params.epochs']") == "0"
    page.close()

