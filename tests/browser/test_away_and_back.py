"""A phone put down, a switch to another app to copy a path, a Wi-Fi blip: the page's socket goes for some seconds
and comes back to the same page, with what was typed in an open form still there.

The drop is made in the page itself (its socket's connection closed, the reconnection put off for AWAY_S): a
network that fails on demand for a set time is not something the real one does. What happens after it is NiceGUI's
own reconnection, as after a real drop."""

from __future__ import annotations

from selenium.webdriver.support.ui import WebDriverWait

from tests.browser.browser import PHONE, Browser
from tests.browser.deck_app import DeckApp

AWAY_S = 7  # longer than NiceGUI keeps a page whose browser went away (3 s unless told) and than the 5 s after
# which ModelDeck used to reload a page whose server answered
NAME = "Typed before the phone went away"


def test_a_form_being_filled_in_survives_the_connection_gone_for_seconds(browser: Browser, deck_app: DeckApp) -> None:
    browser.device(PHONE)
    browser.open(deck_app.url)
    browser.js("window.samePage = true")  # a reload would lose it, and the form with it
    browser.tap(browser.button("Add model"))
    form = browser.dialog()
    browser.type_into("Name", NAME)

    browser.js("""const manager = window.socket.io;
        manager.reconnectionDelay(arguments[0]); manager.reconnectionDelayMax(arguments[0]);
        manager.randomizationFactor(0); manager.engine.close();""", AWAY_S * 1000)
    browser.see_text("Connection lost")
    WebDriverWait(browser.driver, AWAY_S + 20).until(lambda _: browser.js(
        "return window.socket.connected && document.getElementById('popup').ariaHidden === 'true'"),
        "connected again, the banner gone")

    assert browser.js("return window.samePage === true"), "the page was reloaded: what was typed is gone"
    assert browser.field("Name").get_attribute("value") == NAME
    browser.type_into("Model file (.gguf)", str(deck_app.models_dir / "tiny.gguf"))
    browser.tap(browser.button("Save", within=form))  # the server still knows the form: Save works
    browser.no_longer_see(form, "the form")
    browser.card(NAME)
    browser.delete_model(NAME)
