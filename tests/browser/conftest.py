"""Browser tests: the real app in a subprocess, driven by headless Debian Chromium through chromedriver.

One Chromium for the whole session (starting it is the slow part); each test sets the viewport
it needs. `make test` installs chromium and chromium-driver when they are missing.
"""

from __future__ import annotations

from collections.abc import Generator, Iterator
from pathlib import Path

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service

from tests.browser.browser import Browser
from tests.browser.deck_app import ROOT, DeckApp
from tests.tiny_gguf import write_tiny_llama

FAILED = pytest.StashKey[bool]()
TAIL_CHARS = 4000
CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM_FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync",
                  "--disable-dev-shm-usage", "--hide-scrollbars", "--window-size=1280,800")


def headless_chromium(profile: Path, *, page_load_timeout_s: float) -> webdriver.Chrome:
    """Debian's Chromium, headless, with its own profile folder, keeping the page's console log."""
    assert CHROMIUM.exists() and CHROMEDRIVER.exists(), "run `make test`: it installs chromium and chromium-driver"
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in CHROMIUM_FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={profile}")
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(options=options, service=Service(str(CHROMEDRIVER)))
    driver.set_page_load_timeout(page_load_timeout_s)
    return driver


@pytest.fixture(scope="session")
def artifacts() -> Path:
    (ARTIFACTS / "screens").mkdir(parents=True, exist_ok=True)
    return ARTIFACTS


@pytest.fixture(scope="session")
def chrome(tmp_path_factory: pytest.TempPathFactory) -> Iterator[webdriver.Chrome]:
    driver = headless_chromium(tmp_path_factory.mktemp("chromium-profile"), page_load_timeout_s=30)
    try:
        yield driver
    finally:
        driver.quit()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]
                               ) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    if report.when == "call" and report.failed:
        item.stash[FAILED] = True
    return report


@pytest.fixture
def browser(chrome: webdriver.Chrome, artifacts: Path, request: pytest.FixtureRequest) -> Iterator[Browser]:
    page = Browser(chrome, artifacts / "screens")
    try:
        yield page
    finally:
        chrome.save_screenshot(str(artifacts / f"last-{request.node.name}.png"))  # what a failure looked like
        if request.node.stash.get(FAILED, False):  # CI keeps only the output: what the page and the app said
            print_what_failed(page, [app for app in request.node.funcargs.values() if isinstance(app, DeckApp)])
        page.reset()


def print_what_failed(page: Browser, apps: list[DeckApp]) -> None:
    print("== the page's text:", page.js("return document.body.innerText")[-TAIL_CHARS:], sep="\n")
    print("== the browser's console:", *(entry["message"] for entry in page.driver.get_log("browser")), sep="\n")
    for app in apps:
        print(f"== the end of {app.log_path}:", app.output()[-TAIL_CHARS:], sep="\n")


def _home(tmp_path_factory: pytest.TempPathFactory, name: str) -> Path:
    home = tmp_path_factory.mktemp(name)
    write_tiny_llama(home / "models" / "tiny.gguf")
    write_tiny_llama(home / "models" / "tiny-chat.gguf", name="tiny chat")
    return home


@pytest.fixture(scope="package")
def deck_app(tmp_path_factory: pytest.TempPathFactory, llama_server_binary: Path) -> Iterator[DeckApp]:
    """ModelDeck on loopback, open there (no sign-in), with two tiny models in its folder.

    One for tests/browser (a start costs seconds), gone with its llama-servers before other folders'
    tests count processes; each test deletes the models it added."""
    app = DeckApp(_home(tmp_path_factory, "deck"), llama_server_binary)
    app.start()
    try:
        yield app
    finally:
        app.stop()


@pytest.fixture
def locked_app(tmp_path_factory: pytest.TempPathFactory, llama_server_binary: Path) -> Iterator[DeckApp]:
    """ModelDeck with open-on-loopback turned off: sign-in required, a setup link printed at first start."""
    app = DeckApp(_home(tmp_path_factory, "locked"), llama_server_binary, open_on_loopback=False)
    app.start()
    try:
        yield app
    finally:
        app.stop()


