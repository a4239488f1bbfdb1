"""A first run: ModelDeck on a machine with no llama-server anywhere (an empty cache, a PATH without one).

The page answers at once and shows the build's progress; a model started meanwhile waits and runs
when the build is done; a failed build says why and how to use an existing llama-server, and the
app keeps serving. The source is tests/tiny_llama_source.py's tiny CMake project (real cmake,
ninja and compiler, seconds instead of llama.cpp's 13 minutes); once built it runs the real
llama-server, so the model really starts.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from selenium.webdriver.common.by import By

from tests.browser.browser import DESKTOP, PHONE, Browser
from tests.browser.deck_app import DeckApp
from tests.tiny_gguf import write_tiny_llama
from tests.tiny_llama_source import PARTS, write_tiny_source

BARE_PATH = "/usr/bin:/bin"  # cmake, ninja, the compiler: everything a build needs, and no llama-server
STEPS_WITH_GATE = PARTS + 5


def first_run(home: Path, source: Path) -> DeckApp:
    assert shutil.which("llama-server", path=BARE_PATH) is None
    write_tiny_llama(home / "models" / "tiny.gguf")
    return DeckApp(home, llama_server=None, env={
        "PATH": BARE_PATH, "MODELDECK_CACHE": str(home / "cache"), "MODELDECK_LLAMA_SOURCE": str(source)})


@pytest.fixture
def gate(tmp_path: Path) -> Path:
    return tmp_path / "gate"


@pytest.fixture
def building_app(tmp_path: Path, gate: Path, llama_server_binary: Path) -> Iterator[DeckApp]:
    """ModelDeck whose runner builds llama-server and waits at the gate half-way through the build."""
    app = first_run(tmp_path / "home", write_tiny_source(tmp_path / "src.tar.gz", gate=gate,
                                                         real_server=llama_server_binary))
    try:
        app.start(within=30.0)  # the acceptance bar: the UI answers within 30 s whatever llama-server's state
        yield app
    finally:
        gate.touch()  # a build left at its gate would hold the app's shutdown
        app.stop()


def test_the_page_answers_at_once_and_shows_the_build_then_the_model_runs(
        browser: Browser, building_app: DeckApp, gate: Path) -> None:
    browser.device(PHONE)
    browser.open(building_app.url)
    banner = browser.see_text("Building llama-server (CPU)")
    browser.see_text(f"of {STEPS_WITH_GATE} (")  # "compiling: step 14 of 17 (82 %)"
    progress = browser.driver.find_element(By.CSS_SELECTOR, ".q-linear-progress")
    assert progress.is_displayed() and float(progress.get_attribute("aria-valuenow") or 0) > 0
    assert "elapsed" in browser.driver.find_element(By.XPATH, "//*[contains(text(), 'elapsed')]").text
    for scheme in ("light", "dark"):
        browser.color_scheme(scheme)
        browser.screenshot(f"first-run-building-{scheme}")
    browser.device(DESKTOP)
    browser.screenshot("first-run-building")

    browser.tap(browser.button("Show last lines"))
    dialog = browser.dialog()
    browser.wait.until(lambda _: f"/{STEPS_WITH_GATE}] Building C object" in dialog.text, "the build's own lines")
    browser.tap(browser.button("Close", within=dialog))
    browser.no_longer_see(dialog, "the lines")

    card = browser.add_model("First model", str(building_app.models_dir / "tiny.gguf"))  # editing works meanwhile
    browser.tap(browser.button("Start", within=card))
    browser.wait.until(lambda _: "llama-server is being built (" in browser.card("First model").text,
                       "the card says what it waits for")
    assert "starting" in browser.card("First model").text
    browser.screenshot("first-run-waiting")

    gate.touch()
    browser.wait.until(lambda _: "running" in browser.card("First model").text, "the model runs once built")
    browser.no_longer_see(banner, "the build banner")
    assert "on the CPU" in browser.card("First model").text

    browser.open(building_app.url + "/dashboard")
    about = browser.see_text("About this server")
    panel = about.find_element(By.XPATH, "./ancestor::div[contains(@class,'q-card')]")
    browser.wait.until(lambda _: "by a build here" in panel.text, "where the binary came from")
    assert str(building_app.home / "cache") in panel.text and "the CPU only" in panel.text
    browser.screenshot("about-this-server")


def test_a_failed_build_says_why_and_the_app_keeps_serving(browser: Browser, tmp_path: Path) -> None:
    app = first_run(tmp_path / "home", write_tiny_source(tmp_path / "broken.tar.gz", broken=True))
    try:
        app.start(within=30.0)
        browser.device(PHONE)
        browser.open(app.url)
        browser.see_text("llama-server is not available")
        reason = browser.see_text("error: expected")
        assert "part6.c:1" in reason.text  # the compiler's own words, where it failed
        assert "--llama-server" in reason.text and "MODELDECK_LLAMA_SERVER" in reason.text  # and what to do instead
        browser.screenshot("first-run-failed")
        browser.tap(browser.button("Show last lines"))
        dialog = browser.dialog()
        browser.wait.until(lambda _: "ninja: build stopped" in dialog.text, "the failing build's last lines")
        browser.tap(browser.button("Close", within=dialog))

        browser.open(app.url + "/dashboard")  # still serving, every page says it
        browser.see_text("llama-server is not available")
        browser.see_text("not available: building llama-server failed")
    finally:
        app.stop()
