"""A person in a real browser (Debian's chromium via Playwright): form -> live job page -> version."""
from __future__ import annotations

import hashlib
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from app.config import PROJECT_ROOT
from tests.support import unavailable

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
SHOTS = PROJECT_ROOT / "test-output" / "screenshots"
pytestmark = pytest.mark.browser


def shot(page, name: str) -> Path:
    """A screenshot of a main page, kept under test-output/ for people to look at."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    path = SHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


@pytest.fixture(scope="module")
def live_url(sqlite_stack) -> Iterator[str]:
    server = make_server("127.0.0.1", 0, sqlite_stack.app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


@pytest.fixture(scope="module")
def browser():
    if not shutil.which("chromium") and not Path(CHROMIUM).exists():
        reason = "Debian's chromium is not installed (scripts/test.sh installs it as root)"
        unavailable(reason)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", "--no-first-run"])
        yield b
        b.close()


def signed_in_page(browser, live_url, stack, role: str = "admin"):
    """A new browser page signed in through the real sign-in form (session cookie + CSRF token)."""
    username, password, _ = stack.account(role)
    page = browser.new_page()
    page.goto(f"{live_url}/")
    assert "/login" in page.url  # anonymous people are sent to sign in
    page.fill("#username", username)
    page.fill("#password", password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{live_url}/")
    return page


def test_a_person_trains_a_model_and_watches_it_live(browser, live_url, sqlite_stack, model_name, tmp_path):
    page = signed_in_page(browser, live_url, sqlite_stack)
    page.get_by_role("link", name="New training job").first.click()
    page.fill("#model_name", model_name)
    page.select_option("#dataset", "iris:1")
    page.fill("[name='params.epochs']", "40")
    page.fill("[name='params.batch_size']", "8")
    page.get_by_role("button", name="Start training").click()
    page.wait_for_url("**/jobs/*")
    url_before = page.url
    page.wait_for_selector("#chart-loss polyline.series", timeout=120_000)  # the chart draws while it trains
    # The page updates itself: the badge turns to succeeded and a version link appears, no reload.
    page.wait_for_selector(".badge-succeeded", timeout=120_000)
    page.wait_for_selector("#version-link", timeout=10_000)
    assert page.url == url_before
    assert page.inner_text("#epoch") == "40"
    assert "test_accuracy" in page.inner_text("#metrics")
    assert page.locator("#timeline li").count() >= 40  # every epoch event arrived while watching
    assert page.inner_text("#pct") == "100.0"
    assert page.locator("#chart-accuracy polyline.series").count() == 2  # train and validation
    shot(page, "job")
    page.set_viewport_size({"width": 1100, "height": 760})
    page.screenshot(path=str(SHOTS / "job-viewport.png"))  # the one the README shows
    page.click("#version-link")
    page.wait_for_selector("#artifacts")
    text = page.inner_text("#artifacts")
    for name in ("model.keras", "metrics.json", "history.csv"):
        assert name in text
    assert shot(page, "version").stat().st_size > 10_000
    # Download through the button and check the file against the sha256 the page shows.
    row = page.locator("#artifacts tr", has_text="model.keras")
    expected = row.locator("code.sha").inner_text().strip()
    with page.expect_download() as info:
        row.get_by_role("link", name="Download").click()
    saved = tmp_path / "model.keras"
    info.value.save_as(saved)
    assert hashlib.sha256(saved.read_bytes()).hexdigest() == expected
    for name, url in (("jobs", "/"), ("models", "/models"), ("datasets", "/datasets"), ("workers", "/workers"),
                      ("new-job", "/jobs/new")):
        page.goto(f"{live_url}{url}")
        shot(page, name)
    page.close()


def test_promote_then_roll_back_in_the_browser(browser, live_url, sqlite_stack, model_name):
    from tests.support import run_job

    for _ in range(2):
        run_job(sqlite_stack.client, {"kind": "mlp", "dataset": "iris", "model_name": model_name,
                                      "params": {"epochs": 2}})
    page = signed_in_page(browser, live_url, sqlite_stack)
    page.goto(f"{live_url}/models/{model_name}")
    for version, reason in (("1", "first release"), ("2", "better on new data")):
        page.select_option("#promote-version", version)
        page.fill("#promote-reason", reason)
        page.click("#promote-form button")
        page.wait_for_selector(f"#aliases a:has-text('v{version}')")
    page.fill(".rollback-form input[name=reason]", "v2 misbehaves")
    page.click(".rollback-form button")
    page.wait_for_selector("#alias-history li:has-text('rollback')")
    assert page.inner_text("#aliases table").count("v1") == 1
    timeline = page.locator("#alias-history li").all_inner_texts()
    assert len(timeline) == 3
    assert "rollback production: v2 → v1" in timeline[0] and "v2 misbehaves" in timeline[0]
    assert "promote production: v1 → v2" in timeline[1]
    shot(page, "model")
    page.goto(f"{live_url}/models/{model_name}/compare?a=1&b=2")
    page.wait_for_selector("#chart-loss polyline.series")
    shot(page, "compare")
    page.close()


def test_inline_errors_in_the_browser(browser, live_url, sqlite_stack):
    page = signed_in_page(browser, live_url, sqlite_stack, "member")
    page.goto(f"{live_url}/jobs/new")
    page.fill("#model_name", "bad name with spaces")
    page.fill("[name='params.epochs']", "0")
    page.get_by_role("button", name="Start training").click()
    errors = page.locator(".field-error").all_inner_texts()
    assert any("letters, digits" in e for e in errors)
    assert any("between 1 and 1000" in e for e in errors)
    assert page.input_value("[name='params.epochs']") == "0"
    page.close()



def test_schedule_and_batch_inference_in_the_browser(browser, live_url, sqlite_stack, model_name):
    """A schedule made through its form (the next runs appear as the cron is typed), and a batch job
    started from its form whose page ends with the output files."""
    from tests.support import run_job, train_body

    run_job(sqlite_stack.client, train_body(model_name))
    page = signed_in_page(browser, live_url, sqlite_stack)
    page.goto(f"{live_url}/schedules")
    page.fill("#name", f"nightly-{model_name}")
    page.fill("#model_name", model_name)
    page.select_option("#dataset", "iris")
    page.fill("#params", '{"epochs": 2}')
    page.fill("#cron", "30 2 * * 1")
    page.fill("#timezone", "Asia/Tokyo")
    # Monday 02:30 in Tokyo is Sunday 17:30 UTC: the list follows what is typed, five runs a week apart.
    page.wait_for_selector("#next-runs li:has-text('17:30 UTC')")
    assert page.locator("#next-runs li").count() == 5
    page.fill("#cron", "not a cron")
    page.wait_for_selector("#next-runs li.field-error")
    page.fill("#cron", "30 2 * * 1")
    page.get_by_role("button", name="Create schedule").click()
    page.wait_for_url("**/schedules/*")
    assert "Not fired yet" in page.inner_text("main")
    shot(page, "schedule")
    page.get_by_role("button", name="Pause").click()
    page.wait_for_selector("text=Resume")
    page.goto(f"{live_url}/schedules")
    shot(page, "schedules")

    page.get_by_role("link", name="Batch inference").first.click()
    page.select_option("#model_name", model_name)
    page.check("input[name=use][value=version]")
    page.fill("input[name=version]", "1")
    page.select_option("#dataset", "iris:1")
    shot(page, "batch-form")
    page.get_by_role("button", name="Start scoring").click()
    page.wait_for_url("**/jobs/*")
    page.wait_for_selector(".badge-succeeded", timeout=120_000)
    page.reload()  # the outputs table is rendered by the server once the job is done
    text = page.inner_text("#outputs")
    for name in ("predictions.csv", "predictions.parquet", "errors.csv", "summary.json"):
        assert name in text
    assert page.inner_text("#rows-done") == "150"
    shot(page, "batch-job")
    page.close()
