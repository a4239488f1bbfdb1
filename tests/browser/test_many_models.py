"""Two hundred configurations on a phone, in a real browser: a card far down the list follows what the runner
does, its menu opens, search finds it, and the page never scrolls sideways; the card is built for a thumb."""

from __future__ import annotations

import json
import os
import signal
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webelement import WebElement

from tests.browser.browser import NARROW_PHONE, PHONE, Browser, Viewport
from tests.browser.crowd import crowded_app as crowded
from tests.browser.crowd import name_of
from tests.browser.deck_app import DeckApp

COUNT = 200
FAR = name_of(COUNT - 1)  # the last card: far below the first screen


@pytest.fixture(scope="module")
def crowded_app(tmp_path_factory: pytest.TempPathFactory, llama_server_binary: Path) -> Iterator[DeckApp]:
    with crowded(tmp_path_factory.mktemp("crowded"), COUNT, llama_server_binary, within=60) as app:
        yield app


def api(app: DeckApp, method: str, path: str) -> object:
    request = urllib.request.Request(f"{app.url}{path}", method=method)
    with urllib.request.urlopen(request, timeout=30) as answer:
        return json.loads(answer.read() or b"null")


def uid_of(app: DeckApp, name: str) -> str:
    models = api(app, "GET", "/api/models")
    assert isinstance(models, list)
    return str(next(model["uid"] for model in models if model["name"] == name))


def on_screen(browser: Browser, element: WebElement) -> bool:
    return bool(browser.js("const r = arguments[0].getBoundingClientRect();"
                           "return r.bottom > 0 && r.top < innerHeight && r.height > 0", element))


def text_of(element: WebElement) -> str:
    """All its text, on screen or not (Selenium's .text is only what is visible)."""
    return element.get_attribute("textContent") or ""


def search(browser: Browser, text: str) -> None:
    box = browser.field("Search models")
    box.clear()
    box.send_keys(text)


def cards_shown(browser: Browser) -> list[str]:
    return [str(name) for name in browser.js(
        "return [...document.querySelectorAll('.q-page .q-card')].filter(c => c.offsetParent !== null)"
        ".map(c => c.querySelector('[role=button] div').innerText)")]


@pytest.mark.parametrize("view", [PHONE, NARROW_PHONE], ids=lambda view: view.name)
def test_a_card_far_down_the_list_follows_the_runner_and_search_finds_it(
        browser: Browser, crowded_app: DeckApp, view: Viewport) -> None:
    browser.device(view)
    browser.color_scheme("dark")
    browser.open(crowded_app.url)
    far = browser.wait.until(lambda d: d.find_element(By.XPATH, f"//div[contains(@class,'q-card')][.//div["
                                                                f"normalize-space()='{FAR}']]"), "the far card")
    assert not on_screen(browser, far), "the last of 200 cards starts far below the first screen"
    assert browser.horizontal_overflow() == 0

    uid = uid_of(crowded_app, FAR)
    api(crowded_app, "POST", f"/api/models/{uid}/start")  # a script starts it while the page shows the top
    browser.wait.until(lambda _: "running" in text_of(far), f"{FAR} running, off screen")
    browser.wait.until(lambda _: "idle" in text_of(far), "its live figures (idle)")
    [server] = [p for p in psutil.Process(crowded_app.process.pid).children(recursive=True)  # type: ignore[union-attr]
                if p.name() == "llama-server"]
    os.kill(server.pid, signal.SIGKILL)  # the runner sees the crash: the card says so, still off screen
    browser.wait.until(lambda _: "exit code -9" in text_of(far), f"{FAR} crashed")
    assert not on_screen(browser, far)

    search(browser, FAR)
    browser.wait.until(lambda _: cards_shown(browser) == [FAR], "search leaves only the far card")
    card = browser.card(FAR)
    assert on_screen(browser, card) and "error" in card.text
    browser.tap(browser.button("Model actions", within=card))
    browser.menu_item("Error details")  # the menu opens, with what an exit adds to it
    browser.tap(browser.menu_item("Logs"))
    browser.wait.until(lambda _: browser.path == "/logs", "the far card's logs")

    browser.open(crowded_app.url)
    search(browser, "model-01")
    browser.wait.until(lambda _: len(cards_shown(browser)) == 100, "model-0100 to model-0199")
    browser.tap(browser.driver.find_element(By.CSS_SELECTOR, "[aria-label=Status]"))
    browser.tap(browser.menu_item("Error"))
    browser.wait.until(lambda _: cards_shown(browser) == [FAR], "the one in error")
    assert browser.horizontal_overflow() == 0
    browser.screenshot("search-and-filter")


@pytest.mark.parametrize("view", [PHONE, NARROW_PHONE], ids=lambda view: view.name)
def test_the_card_is_built_for_a_thumb(browser: Browser, crowded_app: DeckApp, view: Viewport) -> None:
    browser.device(view)
    browser.color_scheme("dark")
    browser.open(crowded_app.url)
    first = browser.card(name_of(0))
    whole = browser.js("return [...document.querySelectorAll('.q-page .q-card')].filter(c => {"
                       "const r = c.getBoundingClientRect(); return r.top >= 0 && r.bottom <= innerHeight}).length")
    assert whole >= 6, f"{whole} whole cards on a {view.width}x{view.height} screen"
    buttons = [b for b in first.find_elements(By.TAG_NAME, "button") if b.is_displayed()]
    labels = [b.text.splitlines()[-1] for b in buttons if b.get_attribute("aria-label") != "Model actions"]
    assert labels == ["Start"], "one primary button, and it says what a tap does"  # (its icon is a ligature)
    assert all(b.is_enabled() for b in buttons), "no disabled button that looks tappable"
    assert browser.small_targets() == [], "every target at least 44 px"
    assert browser.horizontal_overflow() == 0
    badge = first.find_element(By.CSS_SELECTOR, ".q-badge")
    assert badge.text == "stopped" and badge.value_of_css_property("background-color") not in ("", "transparent")

    toggle = first.find_element(By.CSS_SELECTOR, "[role=button][aria-expanded]")
    assert toggle.get_attribute("aria-expanded") == "false", "details stay folded on a phone"
    assert "tiny.gguf" not in first.text
    browser.tap(toggle)
    browser.wait.until(lambda _: "tiny.gguf" in browser.card(name_of(0)).text, "the details, one tap away")
    assert "ctx 256" in browser.card(name_of(0)).text and toggle.get_attribute("aria-expanded") == "true"
    browser.screenshot("thumb-card")
