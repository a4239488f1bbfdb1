"""In a real browser: what a script does through the API appears at once on every open page, and select mode
is usable with a thumb on a phone (every target at least 44 px, nothing scrolls sideways)."""

from __future__ import annotations

import json
import urllib.request

from selenium.webdriver.common.by import By

from tests.browser.browser import PHONE, Browser
from tests.browser.deck_app import DeckApp


def api(deck_app: DeckApp, method: str, path: str, body: object = None) -> object:
    request = urllib.request.Request(f"{deck_app.url}{path}", method=method,
                                     data=None if body is None else json.dumps(body).encode(),
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as answer:
        return json.loads(answer.read() or b"null")


def test_a_model_the_api_adds_and_deletes_comes_and_goes_on_an_open_page(browser: Browser, deck_app: DeckApp) -> None:
    browser.open(deck_app.url)
    made = api(deck_app, "POST", "/api/models", {"name": "from-a-script",
                                                 "model_path": str(deck_app.models_dir / "tiny.gguf")})
    assert isinstance(made, dict)
    browser.card("from-a-script")
    api(deck_app, "DELETE", f"/api/models/{made['uid']}")
    browser.card_gone("from-a-script")


def test_select_mode_on_a_phone_has_thumb_sized_targets(browser: Browser, deck_app: DeckApp) -> None:
    made = [api(deck_app, "POST", "/api/models", {"name": f"pick-{index}",
                                                  "model_path": str(deck_app.models_dir / "tiny.gguf")})
            for index in range(3)]
    try:
        browser.device(PHONE)
        browser.open(deck_app.url)
        browser.card("pick-2")
        browser.tap(browser.button("Select"))
        browser.tap(browser.button("All shown"))
        browser.see_text("3 selected")
        browser.tap(browser.driver.find_element(By.CSS_SELECTOR, '[aria-label="Select pick-1"]'))  # one box cleared
        browser.see_text("2 selected")
        assert browser.small_targets() == [], "every control a thumb aims at is at least 44 px"
        assert browser.horizontal_overflow() == 0
        browser.screenshot("select-mode")
        browser.tap(browser.button("Leave select mode"))
    finally:
        for model in made:
            assert isinstance(model, dict)
            api(deck_app, "DELETE", f"/api/models/{model['uid']}")
