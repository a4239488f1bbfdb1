"""The models page in real Chromium with 1, 50, 200 and 1,000 configurations, and the app's memory with
1 and 20 open tabs: the figures issue #19 asks to move, before and after.

For each number of configurations the rows are written into a fresh SQLite file (through the app's own
migrations and ORM, so the schema is the real one) before ModelDeck starts; then the real app (python
main.py, as tests/browser start it) serves headless Debian Chromium with the tests' flags, at 390 and
1280 px. Times come from the browser's own clock, from navigation start (performance.now()):

- first card: the first model card laid out on screen;
- all cards: every configuration's card in the DOM;
- usable: NiceGUI's socket connected (before it, a tap does nothing);
- status change: the last card (far down the list, scrolled to) shows `running` after its Start is
  tapped (includes llama-server's own start, tens of ms for the tiny model), and shows `error` after
  its llama-server is killed with SIGKILL (the runner's event reaching the card; the browser's
  Date.now() against this script's clock at the kill);
- search: the last card's name typed into the search box (one input event) until it is the only card
  on screen (the round trip to the server included), then the box cleared until every card is back;
- elements: NiceGUI elements in the page (each one the server also keeps for this browser).

Then, with 200 configurations in a fresh app: its RSS with one tab open, and with 20 tabs open.
Every figure is printed with its ratio to the 1-configuration page (or to one tab) of the same run.

    .venv/bin/python bench/models_page_browser.py [--counts 1,50,200,1000] [--repeat 3] [--tabs 20]
"""

from __future__ import annotations

import argparse
import math
import os
import signal
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import cast

import psutil

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from selenium import webdriver  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.remote.remote_connection import RemoteConnection  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402

from runner.binary import resolve_binary  # noqa: E402
from tests.browser.browser import DESKTOP, PHONE, Viewport  # noqa: E402
from tests.browser.conftest import headless_chromium  # noqa: E402
from tests.browser.crowd import crowded_app, name_of  # noqa: E402
from tests.browser.deck_app import DeckApp  # noqa: E402

PAGE_LIMIT_S = 600.0  # 1,000 cards take tens of seconds on a busy 2-core machine today
VIEWS = (PHONE, DESKTOP)

# Installed before every document: watches each frame for the first card on screen, all cards, the socket.
PROBE_JS = """
(() => {
  const expected = Number(new URLSearchParams(location.search).get('bench_cards') || 0);
  const seen = window.__bench = {first: null, all: null, usable: null};
  const look = () => {
    const cards = document.querySelectorAll('.q-page .q-card');
    if (seen.first === null) {
      for (const card of cards) {
        const r = card.getBoundingClientRect();
        const onScreen = r.width > 0 && r.height > 0 && r.top < innerHeight && r.bottom > 0;
        if (onScreen) { seen.first = performance.now(); break; }
      }
    }
    if (seen.all === null && expected > 0 && cards.length >= expected) seen.all = performance.now();
    if (seen.usable === null && window.did_handshake === true) seen.usable = performance.now();
    if (seen.first === null || seen.all === null || seen.usable === null) requestAnimationFrame(look);
  };
  requestAnimationFrame(look);
})();
"""

CARD_XPATH = "//div[contains(@class,'q-card')][.//div[normalize-space()='{name}']]"

# Waits (each frame) for the named card to say `word`; the time it did, by the browser's wall clock.
WATCH_JS = """
const [xpath, word] = arguments;
const watch = window.__watch = {at: null};
const look = () => {
  const card = document.evaluate(xpath, document, null, XPathResult.FIRST_ORDERED_NODE_TYPE, null).singleNodeValue;
  if (card && card.innerText.includes(word)) { watch.at = Date.now(); return; }
  requestAnimationFrame(look);
};
requestAnimationFrame(look);
"""

# Types into the search box (one input event, as a keyboard would send) and waits each frame until `want` cards
# are on screen; resolves with the milliseconds it took.
SEARCH_JS = """
const [text, want, done] = arguments;
const box = document.querySelector('input[aria-label="Search models"]');
const shown = () => [...document.querySelectorAll('.q-page .q-card')].filter(c => c.offsetParent !== null).length;
const started = performance.now();
Object.getOwnPropertyDescriptor(HTMLInputElement.prototype, 'value').set.call(box, text);
box.dispatchEvent(new Event('input', {bubbles: true}));
const look = () => shown() === want ? done(performance.now() - started) : requestAnimationFrame(look);
requestAnimationFrame(look);
"""

# NiceGUI renders each element with the id "c<number>": how many the page (and the server, for it) holds.
ELEMENTS_JS = "return [...document.querySelectorAll('[id]')].filter(e => /^c[0-9]+$/.test(e.id)).length"


@dataclass
class PageFigures:
    first: list[float] = field(default_factory=list)
    all: list[float] = field(default_factory=list)
    usable: list[float] = field(default_factory=list)
    running: list[float] = field(default_factory=list)
    error: list[float] = field(default_factory=list)
    search: list[float] = field(default_factory=list)
    unsearch: list[float] = field(default_factory=list)
    elements: list[float] = field(default_factory=list)


@contextmanager
def deck_with(count: int, binary: Path) -> Iterator[DeckApp]:
    with tempfile.TemporaryDirectory(prefix="modeldeck-page-bench-") as home, crowded_app(Path(home), count,
                                                                                          binary) as app:
        yield app


def chromium() -> webdriver.Chrome:
    profile = Path(tempfile.mkdtemp(prefix="modeldeck-bench-chromium-"))
    driver = headless_chromium(profile, page_load_timeout_s=PAGE_LIMIT_S)
    cast(RemoteConnection, driver.command_executor).client_config.timeout = int(PAGE_LIMIT_S)  # late, not never
    driver.set_script_timeout(PAGE_LIMIT_S)
    return driver


def install_probe(driver: webdriver.Chrome) -> None:
    """The probe in every document this tab loads (once per tab)."""
    driver.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": PROBE_JS})


def emulate(driver: webdriver.Chrome, view: Viewport) -> None:
    """This tab's screen, as tests/browser emulate a phone or a desktop."""
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {
        "width": view.width, "height": view.height, "deviceScaleFactor": 1, "mobile": view.mobile})


def load(driver: webdriver.Chrome, app: DeckApp, count: int) -> dict[str, float]:
    """Navigate to the models page; seconds from navigation start to first card, all cards, usable."""
    driver.get(f"{app.url}/?bench_cards={count}")
    WebDriverWait(driver, PAGE_LIMIT_S).until(lambda d: d.execute_script(
        "const s = window.__bench; return s && s.first !== null && s.all !== null && s.usable !== null"),
        f"{count} cards shown")
    seen = driver.execute_script("return window.__bench")
    return {key: float(value) / 1000 for key, value in seen.items()}


def llama_server_of(app: DeckApp) -> psutil.Process:
    assert app.process is not None
    servers = [p for p in psutil.Process(app.process.pid).children(recursive=True) if p.name() == "llama-server"]
    assert len(servers) == 1, servers
    return servers[0]


def watch_card(driver: webdriver.Chrome, name: str, word: str) -> float:
    """Seconds since epoch when the card of `name` says `word` (waited for)."""
    WebDriverWait(driver, 60).until(lambda d: d.execute_script("return window.__watch.at !== null"),
                                    f"{name} says {word}")
    return float(driver.execute_script("return window.__watch.at")) / 1000


def status_changes(driver: webdriver.Chrome, app: DeckApp, name: str) -> tuple[float, float]:
    """Tap Start on the card of `name`; seconds until it shows running; then SIGKILL its server: until error."""
    xpath = CARD_XPATH.format(name=name)
    card = driver.find_element(By.XPATH, xpath)
    driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", card)
    start = WebDriverWait(driver, 30).until(lambda _: next(  # a card's controls are built as it comes into view
        (b for b in card.find_elements(By.XPATH, ".//button[.//span[normalize-space()='Start']]") if b.is_enabled()),
        None), "Start shown and enabled")
    driver.execute_script(WATCH_JS, xpath, "running")
    tapped = float(driver.execute_script("arguments[0].click(); return Date.now()", start)) / 1000
    running = watch_card(driver, name, "running") - tapped
    server = llama_server_of(app)
    driver.execute_script(WATCH_JS, xpath, "error")
    killed = time.time()
    os.kill(server.pid, signal.SIGKILL)
    return running, watch_card(driver, name, "error") - killed


def measure_page(driver: webdriver.Chrome, binary: Path, count: int, repeat: int) -> dict[str, PageFigures]:
    figures = {view.name: PageFigures() for view in VIEWS}
    with deck_with(count, binary) as app:
        for view in VIEWS:
            emulate(driver, view)
            load(driver, app, count)  # not counted: the first page after a start also warms the server up
            for _ in range(repeat):
                seen = load(driver, app, count)
                figures[view.name].first.append(seen["first"])
                figures[view.name].all.append(seen["all"])
                figures[view.name].usable.append(seen["usable"])
            figures[view.name].elements.append(float(driver.execute_script(ELEMENTS_JS)))
            for _ in range(max(1, repeat - 1)):
                running, error = status_changes(driver, app, name_of(count - 1))
                figures[view.name].running.append(running)
                figures[view.name].error.append(error)
            if driver.execute_script("return !!document.querySelector('input[aria-label=\"Search models\"]')"
                                     " && document.querySelector('input[aria-label=\"Search models\"]')"
                                     ".offsetParent !== null"):
                for _ in range(repeat):
                    figures[view.name].search.append(search(driver, name_of(count - 1), 1))
                    figures[view.name].unsearch.append(search(driver, "", count))
    return figures


def search(driver: webdriver.Chrome, text: str, want: int) -> float:
    """Seconds from typing `text` into the search box until `want` cards are on screen."""
    return float(cast(float, driver.execute_async_script(SEARCH_JS, text, want))) / 1000


def app_rss_mib(app: DeckApp) -> float:
    assert app.process is not None
    return psutil.Process(app.process.pid).memory_info().rss / 2**20


def measure_rss(driver: webdriver.Chrome, binary: Path, count: int, tabs: int) -> tuple[float, float, float]:
    """The app's RSS (MiB) before any tab, with one tab on the models page, and with `tabs` tabs."""
    with deck_with(count, binary) as app:
        idle = app_rss_mib(app)
        first = driver.current_window_handle
        emulate(driver, DESKTOP)
        load(driver, app, count)
        time.sleep(2)  # a pacing pause: let the server finish its work on the page before reading its memory
        one = app_rss_mib(app)
        for _ in range(tabs - 1):
            driver.switch_to.new_window("tab")
            install_probe(driver)
            emulate(driver, DESKTOP)
            load(driver, app, count)
        time.sleep(2)
        many = app_rss_mib(app)
        for handle in driver.window_handles:
            if handle != first:
                driver.switch_to.window(handle)
                driver.close()
        driver.switch_to.window(first)
        return idle, one, many


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


COLUMNS = (("first", "first card"), ("all", "all cards"), ("usable", "usable"), ("running", "Start->running"),
           ("error", "kill->error"), ("search", "search->1 card"), ("unsearch", "clear->all"))


def header() -> None:
    print(f"{'configs':>7} {'view':>7} | " + " | ".join(f"{title:>16}" for _, title in COLUMNS)
          + f" | {'elements':>14}", flush=True)


def report_row(count: int, view: str, results: dict[int, dict[str, PageFigures]]) -> None:
    """One line: each median with its ratio to the first page of the run that has it (search: the first page
    with a search box)."""
    def reference(attribute: str) -> float:
        return next((median(getattr(per_view[view], attribute)) for per_view in results.values()
                     if getattr(per_view[view], attribute)), math.nan)

    figures = results[count][view]
    cells = []
    for attribute in (*(attribute for attribute, _ in COLUMNS), "elements"):
        if not getattr(figures, attribute):
            cells.append(f"{'-':>16}")
            continue
        value = median(getattr(figures, attribute))
        ratio = f"{value / reference(attribute):5.1f}x"
        cells.append(f"{value:6.0f} {ratio}" if attribute == "elements" else f"{value:7.3f} s {ratio}")
    print(f"{count:>7} {view:>7} | " + " | ".join(cells), flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--counts", default="1,50,200,1000",
                        help="numbers of configurations (the first is the baseline)")
    parser.add_argument("--repeat", type=int, default=3, help="page loads per width (status changes: one fewer)")
    parser.add_argument("--tabs", type=int, default=20, help="open tabs for the memory figure")
    parser.add_argument("--rss-configs", type=int, default=200, help="configurations for the memory figure")
    args = parser.parse_args()
    counts = [int(part) for part in args.counts.split(",")]
    binary = resolve_binary()
    driver = chromium()
    install_probe(driver)
    try:
        results: dict[int, dict[str, PageFigures]] = {}
        header()
        for count in counts:
            results[count] = measure_page(driver, binary, count, args.repeat)
            for view in results[count]:
                report_row(count, view, results)
        print(f"(medians; ratios against the {counts[0]}-configuration page at the same width, same run; "
              "search has no box with few models: no ratio)")
        idle, one, many = measure_rss(driver, binary, args.rss_configs, args.tabs)
        print(f"app RSS with {args.rss_configs} configurations: {idle:6.0f} MiB before any page, {one:6.0f} MiB with "
              f"1 tab, {many:6.0f} MiB with {args.tabs} tabs ({many / one:.1f}x one tab, "
              f"{(many - idle) / max(one - idle, 1e-9):.1f}x one tab's share)")
    finally:
        driver.quit()


if __name__ == "__main__":
    main()
