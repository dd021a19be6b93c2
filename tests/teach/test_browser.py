"""End to end: ``impact teach`` in a real headless Chromium, driven by Playwright.

Skipped, with the reason, when Chromium (Debian's ``chromium`` package; another path
can be given in ``IMPACT_CHROMIUM``), Playwright or the ``teach`` extra is missing.
With ``IMPACT_REQUIRE_BROWSER`` set (as in CI) they fail instead of skipping. Any
error in the browser's console fails the test. With ``IMPACT_SCREENSHOT_DIR`` set,
the screenshots are also saved there (the docs' pictures are made this way).
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import signal
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pytest


def _chromium() -> str | None:
    given = os.environ.get("IMPACT_CHROMIUM")
    if given:
        return given if Path(given).exists() else None
    return shutil.which("chromium") or shutil.which("chromium-browser")


CHROMIUM = _chromium()
MISSING = [m for m in ("shiny", "uvicorn", "playwright") if importlib.util.find_spec(m) is None]

if os.environ.get("IMPACT_REQUIRE_BROWSER") and (MISSING or CHROMIUM is None):
    pytest.fail(
        f"IMPACT_REQUIRE_BROWSER is set but the browser tests cannot run: missing "
        f"{MISSING + ([] if CHROMIUM else ['chromium'])}",
        pytrace=False,
    )

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        bool(MISSING),
        reason=f"browser tests need {', '.join(MISSING)}: pip install -e '.[teach-test]'",
    ),
    pytest.mark.skipif(
        CHROMIUM is None,
        reason="no Chromium found: install Debian's chromium package (apt-get install "
        "chromium) or set IMPACT_CHROMIUM to a Chromium executable",
    ),
]

TIMEOUT_MS = 60_000


class Server:
    """``python -m impact teach --no-browser`` in a subprocess."""

    def __init__(self) -> None:
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        self.process = subprocess.Popen(
            [sys.executable, "-m", "impact", "teach", "--no-browser"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        line: list[str] = []
        reader = threading.Thread(target=lambda: line.append(self.process.stdout.readline()))
        reader.start()
        reader.join(timeout=60)
        if not line or "http://127.0.0.1:" not in line[0]:
            self.process.kill()
            raise RuntimeError(f"impact teach did not print its address: {line!r}")
        self.url = line[0].split(" at ")[1].split()[0]

    def interrupt(self, timeout: float = 30) -> tuple[int, str]:
        """Send Ctrl-C; return the exit status and the rest of standard output."""
        self.process.send_signal(signal.SIGINT)
        out, _ = self.process.communicate(timeout=timeout)
        return self.process.returncode, out

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.communicate()


@pytest.fixture(scope="module")
def server():
    running = Server()
    yield running
    running.kill()


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser, server):
    context = browser.new_context(viewport={"width": 1280, "height": 720})
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(server.url)
    page.wait_for_selector("#estimates-table")
    page.wait_for_selector("#trajectories img")
    yield page
    context.close()
    assert errors == [], f"browser console errors: {errors}"


def _covers(page, design: str) -> str:
    return page.locator(
        f'#estimates-table tr[data-design="{design}"] td[data-covers]'
    ).get_attribute("data-covers")


def _plot(page) -> str:
    return page.locator("#trajectories img").get_attribute("src")


def _wait_covers(page, design: str, value: str) -> None:
    page.wait_for_function(
        "([d, v]) => { const c = document.querySelector("
        '`#estimates-table tr[data-design="${d}"] td[data-covers]`); '
        "return c !== null && c.dataset.covers === v; }",
        arg=[design, value],
    )


def _save(page, tmp_path: Path, name: str, element: str | None = None) -> Path:
    path = tmp_path / name
    target = page.locator(element) if element else page
    target.screenshot(path=str(path))
    folder = os.environ.get("IMPACT_SCREENSHOT_DIR")
    if folder:
        shutil.copy(path, Path(folder) / name)
    return path


def _not_blank(path: Path) -> None:
    from PIL import Image

    pixels = np.asarray(Image.open(path).convert("RGB"), dtype=float)
    assert pixels.std() > 20, "the screenshot is (almost) uniform"
    assert len(np.unique(pixels.reshape(-1, 3), axis=0)) > 100, "too few colours: blank page?"


def _set_slider(page, name: str, value: float) -> None:
    page.evaluate("([n, v]) => $('#' + n).data('ionRangeSlider').update({from: v})", [name, value])
    page.locator(f"#{name}").dispatch_event("change")


def test_selection_on_trend_makes_did_miss_while_its_covers(page, tmp_path):
    # default world: the Scottish schools, pilots chosen on level; DiD is fine
    _wait_covers(page, "difference-in-differences", "True")
    _wait_covers(page, "naive before/after", "False")
    before = _plot(page)
    page.get_by_role("button", name="Selected on trend").click()
    _wait_covers(page, "difference-in-differences", "False")
    _wait_covers(page, "controlled ITS", "True")
    page.wait_for_function(
        "src => document.querySelector('#trajectories img').src !== src", arg=before
    )
    assert "parallel trends fail" in page.locator("#explanations").inner_text()
    assert page.locator("input[name=selection][value=trend]").is_checked()
    _not_blank(_save(page, tmp_path, "teach-sandbox.png"))
    # nothing spills past a 1280x720 screen sideways
    assert page.evaluate("document.documentElement.scrollWidth") <= 1280


def test_keyboard_moves_a_slider_and_the_estimates_follow(page):
    table = page.locator("#estimates-table").inner_text()
    sliders = page.get_by_role("slider")
    assert sliders.count() == 11
    pilots = page.get_by_role("slider", name="Pilot schools")
    pilots.focus()
    for _ in range(3):
        page.keyboard.press("ArrowLeft")
    page.wait_for_function(
        "t => document.querySelector('#estimates-table').innerText !== t", arg=table
    )
    assert int(pilots.get_attribute("aria-valuenow")) < 60
    page.get_by_label("Large fonts (projector)").check()
    page.wait_for_function("getComputedStyle(document.documentElement).fontSize === '22px'")


def test_short_follow_up_misses_a_delayed_effect(page):
    _set_slider(page, "effect", 2.0)
    page.get_by_label("Effect profile").select_option("year3")
    page.get_by_label("Follow-up (programme years analysed)").select_option("1")
    page.wait_for_function(
        "document.querySelector('#explanations').innerText.includes('a short follow-up misses it')"
    )
    truths = page.locator("#estimates-table tr[data-design] td:nth-child(4)").all_inner_texts()
    assert set(truths) == {"0.00"}


def test_spillover_and_staggered_rollout(page):
    _set_slider(page, "effect", 3.0)
    _set_slider(page, "spillover_share", 1.0)
    _set_slider(page, "spillover_schools", 200)
    page.wait_for_function(
        "document.querySelector('#explanations').innerText.includes('comparison group rose too')"
    )
    page.get_by_role("button", name="Staggered rollout").click()
    _wait_covers(page, "difference-in-differences", "None")
    _wait_covers(page, "staggered DiD", "True")


def test_an_impossible_world_is_explained_not_crashed(page):
    _set_slider(page, "n_schools", 10)  # fewer schools than the 60 pilots
    alert = page.get_by_role("alert")
    alert.wait_for()
    assert "fewer than the 10 schools" in alert.inner_text()
    page.get_by_role("button", name="Run Monte Carlo").click()
    page.locator(".shiny-notification").filter(has_text="Cannot run").wait_for()
    _set_slider(page, "n_schools", 350)  # the page recovers
    _wait_covers(page, "difference-in-differences", "True")


def test_monte_carlo_runs_in_the_background_with_progress(page, tmp_path):
    page.get_by_role("button", name="Selected on trend").click()
    _wait_covers(page, "difference-in-differences", "False")
    for label in ("naive before/after", "staggered DiD", "matched DiD"):
        page.get_by_label(label).uncheck()
    page.get_by_label("Replications").select_option("50")
    page.get_by_role("button", name="Run Monte Carlo").click()
    page.wait_for_selector("#mc-bar")  # the progress indicator
    # the page answers while the study runs
    page.get_by_label("Large fonts (projector)").check()
    page.wait_for_function("getComputedStyle(document.documentElement).fontSize === '22px'")
    page.wait_for_selector("#mc-table", timeout=120_000)
    rows = {
        r.get_attribute("data-design"): r.locator("td").all_inner_texts()
        for r in page.locator("#mc-table tr[data-design]").all()
    }
    assert set(rows) == {"difference-in-differences", "controlled ITS"}
    did_coverage = int(rows["difference-in-differences"][1].rstrip("%"))
    its_coverage = int(rows["controlled ITS"][1].rstrip("%"))
    assert did_coverage < 50 < its_coverage
    _not_blank(_save(page, tmp_path, "teach-sandbox-monte-carlo.png", element="#mc-table"))


def test_ctrl_c_stops_the_server_cleanly_with_a_page_open(browser, server):
    # last in this module: it stops the shared server
    context = browser.new_context()
    try:
        page = context.new_page()
        page.goto(server.url)
        page.wait_for_selector("#estimates-table", timeout=TIMEOUT_MS)
        status, out = server.interrupt()
    finally:
        context.close()
    assert status == 0
    assert "Stopped." in out
