"""A person manages models from a phone and from a desktop, in a real browser.

Runs the real app (python main.py) with a real llama-server, in headless Chromium. Every page is
checked at 360 px for sideways scrolling and small touch targets, in dark and light mode, and
screenshots of each step land in test-artifacts/screens/.
"""

from __future__ import annotations

import pytest

from tests.browser.browser import DESKTOP, PHONE, Browser, Viewport
from tests.browser.deck_app import DeckApp


@pytest.mark.parametrize("view", [PHONE, DESKTOP], ids=lambda view: view.name)
def test_add_start_watch_and_delete_a_model(browser: Browser, deck_app: DeckApp, view: Viewport) -> None:
    name = f"Tiny on the {view.name}"
    browser.device(view)
    browser.open(deck_app.url)
    browser.sign_in_if_asked("admin", "unused: open on loopback")
    browser.screenshot("models")

    browser.tap(browser.button("Add model"))
    form = browser.dialog()
    assert form.size["width"] <= view.width, "the form fits the screen"
    browser.type_into("Name", name)
    browser.type_into("Model file (.gguf)", str(deck_app.models_dir / "tiny.gguf"))
    browser.screenshot("add-form")
    browser.tap(browser.button("Save", within=form))
    browser.no_longer_see(form, "the form")
    card = browser.card(name)
    assert "stopped" in card.text

    browser.tap(browser.button("Start", within=card))
    browser.wait.until(lambda _: "running" in browser.card(name).text, f"{name} running")
    browser.wait.until(lambda _: "idle" in browser.card(name).text, "live figures on the card (idle)")
    browser.screenshot("running")

    card = browser.card(name)
    browser.tap(browser.button("Stop", within=card))
    browser.wait.until(lambda _: "stopped" in browser.card(name).text, f"{name} stopped")

    browser.tap(browser.button("Model actions", within=browser.card(name)))
    delete = browser.menu_item("Delete")
    assert delete.size["height"] >= 44, "menu items are thumb-sized"
    browser.screenshot("card-menu")
    browser.tap(delete)
    confirm = browser.dialog()
    assert name in confirm.text
    browser.screenshot("confirm-delete")
    browser.tap(browser.button("Delete", within=confirm))
    browser.card_gone(name)
    browser.see_text(f"Deleted {name}")


def test_a_crash_shows_a_toast_in_every_open_page(browser: Browser, deck_app: DeckApp) -> None:
    broken = deck_app.models_dir / "broken.gguf"
    broken.write_bytes(b"GGUF" + b"\x00" * 64)  # llama-server refuses it and exits
    browser.device(PHONE)
    browser.open(f"{deck_app.url}/audit")
    elsewhere = browser.driver.current_window_handle
    browser.driver.switch_to.new_window("tab")
    try:
        browser.device(PHONE)  # emulation is per tab
        browser.open(deck_app.url)
        browser.tap(browser.button("Add model"))
        form = browser.dialog()
        browser.type_into("Name", "Broken")
        browser.type_into("Model file (.gguf)", str(broken))
        browser.tap(browser.button("Save", within=form))
        browser.no_longer_see(form, "the form")
        browser.tap(browser.button("Start", within=browser.card("Broken")))
        toast = browser.see_text_confirming("Broken stopped with an error", confirm="Start anyway")
        assert toast.location["y"] < PHONE.height / 2, "on a phone, toasts appear under the header"
        browser.screenshot("crash-toast")
    finally:
        browser.driver.close()
        browser.driver.switch_to.window(elsewhere)
    browser.see_text("Broken stopped with an error")  # the audit page, open in another tab, was told too
    browser.screenshot("crash-toast-elsewhere")

    browser.open(deck_app.url)  # a model in error can be deleted
    browser.tap(browser.button("Model actions", within=browser.card("Broken")))
    browser.tap(browser.menu_item("Delete"))
    browser.tap(browser.button("Delete", within=browser.dialog()))
    browser.card_gone("Broken")
