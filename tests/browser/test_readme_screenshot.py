"""docs/screenshot.png, made the way a person sees ModelDeck: three models, one running, on a
desktop in light mode beside a phone in dark mode. Written to test-artifacts/readme-screenshot.png
(and each screen alone to models-desktop-light.png and models-phone-dark.png) on every run; copy them
to docs/ when the look changes."""

from __future__ import annotations

import base64
from pathlib import Path

from selenium.webdriver.common.by import By

from tests.browser.browser import DESKTOP, PHONE, Browser, Viewport
from tests.browser.deck_app import DeckApp

GAP = 40
SHEET = Viewport("sheet", DESKTOP.width + PHONE.width + 3 * GAP, max(DESKTOP.height, PHONE.height) + 2 * GAP,
                 mobile=False)
MAX_BYTES = 300_000


def test_readme_screenshot(browser: Browser, deck_app: DeckApp, artifacts: Path, tmp_path: Path) -> None:
    browser.device(DESKTOP)
    browser.color_scheme("light")
    browser.open(deck_app.url)
    for name, file, context in (("Tiny chat", "tiny-chat.gguf", None), ("Tiny llama", "tiny.gguf", None),
                                ("Tiny llama, long context", "tiny.gguf", 8192)):
        browser.add_model(name, str(deck_app.models_dir / file), context_size=context)
    browser.tap(browser.button("Start", within=browser.card("Tiny chat")))
    browser.wait.until(lambda _: "idle" in browser.card("Tiny chat").text, "Tiny chat running with figures")
    browser.wait.until(lambda d: not any(toast.is_displayed()
                                         for toast in d.find_elements(By.CSS_SELECTOR, ".q-notification")),
                       "the toasts gone")
    desktop = browser.driver.get_screenshot_as_base64()
    browser.color_scheme("dark")
    browser.device(PHONE)
    browser.open(deck_app.url)  # as a phone opens it: the cards folded
    browser.wait.until(lambda _: "idle" in browser.card("Tiny chat").text, "Tiny chat's figures")
    browser.screenshot("readme-phone")
    phone = browser.driver.get_screenshot_as_base64()
    for name, shot in (("models-desktop-light.png", desktop), ("models-phone-dark.png", phone)):
        (artifacts / name).write_bytes(base64.b64decode(shot))

    sheet = tmp_path / "sheet.html"
    sheet.write_text(f"""<!doctype html><body style="margin:0;background:#dee2e6;display:flex;gap:{GAP}px;
        padding:{GAP}px;align-items:center">
        <img src="data:image/png;base64,{desktop}" style="box-shadow:0 4px 24px #0004">
        <img src="data:image/png;base64,{phone}" style="border-radius:24px;box-shadow:0 4px 24px #0006"></body>""")
    browser.device(SHEET)
    browser.driver.get(sheet.as_uri())
    browser.wait.until(lambda _: browser.js("return [...document.images].every(i => i.complete)"), "images drawn")
    out = artifacts / "readme-screenshot.png"
    out.write_bytes(base64.b64decode(browser.driver.get_screenshot_as_base64()))
    assert out.stat().st_size < MAX_BYTES, f"{out} is {out.stat().st_size} bytes"
