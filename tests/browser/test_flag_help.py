"""The form's lists of allowed flags and variables, on a phone and a desktop, light and dark."""

from __future__ import annotations

import pytest

from tests.browser.browser import DESKTOP, PHONE, Browser, Viewport
from tests.browser.deck_app import DeckApp


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("view", [PHONE, DESKTOP], ids=lambda view: view.name)
def test_a_person_picks_an_allowed_flag_and_sees_a_refused_one_explained(
        browser: Browser, deck_app: DeckApp, view: Viewport, scheme: str) -> None:
    browser.device(view)
    browser.color_scheme(scheme)
    browser.open(deck_app.url)
    browser.tap(browser.button("Add model"))
    form = browser.dialog()
    browser.tap(browser.button("Flags", within=form))
    listing = browser.dialog_with("Flags you can add")
    browser.see_text("Sampling")
    assert listing.size["width"] <= view.width, "the list fits the screen"
    assert browser.horizontal_overflow() == 0
    assert browser.small_targets() == []
    browser.screenshot(f"flag-list-{scheme}")
    browser.type_into("Search", "temperature")
    browser.tap(browser.see_text("--temp, --temperature N"))
    browser.no_longer_see(listing, "the list")
    assert browser.field("Extra arguments").get_attribute("value") == "--temp"

    browser.field("Extra arguments").send_keys(" 0.7 --tools all")
    browser.type_into("Name", f"flags {view.name} {scheme}")
    browser.type_into("Model file (.gguf)", str(deck_app.models_dir / "tiny.gguf"))
    browser.tap(browser.button("Save", within=form))
    browser.see_text("--tools is not allowed: it runs programs or tools")
    browser.screenshot(f"flag-refused-{scheme}")
    browser.tap(browser.button("Cancel", within=form))
    browser.no_longer_see(form, "the form")
