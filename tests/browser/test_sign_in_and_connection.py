"""Sign-in on a phone when loopback is not left open, and what the phone shows when the server goes away."""

from __future__ import annotations

from selenium.webdriver.support.ui import WebDriverWait

from tests.browser.browser import NARROW_PHONE, PHONE, Browser
from tests.browser.deck_app import DeckApp

NAME = "alice"
PASSWORD = "a long enough phone password"
RECOVERY_S = 30  # the next try to reconnect (at most 7.5 s apart), a 2 s poll, the reload, a loaded CI machine


def test_first_admin_from_the_printed_link_then_sign_in_on_a_phone(browser: Browser, locked_app: DeckApp) -> None:
    browser.device(PHONE)
    browser.open(locked_app.url)
    assert browser.path == "/login", "sign-in is required"
    browser.see_text("No account exists yet")
    browser.screenshot("login-no-account")

    browser.open(locked_app.setup_link())  # printed in the terminal at first start
    browser.type_into("User name", NAME)
    browser.type_into("Password", PASSWORD)
    browser.type_into("Password again", PASSWORD)
    browser.screenshot("setup")
    browser.tap(browser.button("Create account"))
    browser.wait.until(lambda _: browser.path == "/", "on the models page")

    browser.wait_connected()
    browser.tap(browser.button("Account"))
    browser.tap(browser.menu_item("Sign out"))
    browser.wait.until(lambda _: browser.path == "/login", "signed out")
    browser.wait_connected()
    browser.screenshot("login")
    for view in (NARROW_PHONE, PHONE):
        browser.device(view)
        assert browser.horizontal_overflow() == 0, f"the sign-in page scrolls sideways at {view.width} px"
        assert not browser.small_targets(), browser.small_targets()
    browser.sign_in_if_asked(NAME, PASSWORD)
    assert browser.path == "/"
    browser.see_text("Models")
    # The phone's session cookie opens pages, never the gateway: a key does (as a page's own script would ask).
    status = "return fetch(arguments[0], {redirect: 'manual'}).then(answer => answer.status)"
    assert browser.js(status, "/") == 200  # the cookie goes with the request (without it: a redirect to /login)
    assert browser.js(status, "/v1/models") == 401

    locked_app.stop()  # the Wi-Fi drops, or the server goes away
    banner = browser.see_text("Connection lost")
    box = browser.js("return document.getElementById('popup').getBoundingClientRect().toJSON()")
    assert box["top"] == 0 and box["width"] == PHONE.width, "a full-width banner at the top, not a corner popup"
    assert banner.is_displayed()
    browser.screenshot("reconnecting")

    locked_app.start()  # back on the same port: the page comes back by itself, still signed in
    WebDriverWait(browser.driver, RECOVERY_S).until(lambda _: browser.js(
        "return document.getElementById('popup').ariaHidden === 'true' && window.did_handshake === true"),
        "the banner gone once the server is back")
    assert browser.path == "/"
    browser.see_text("Add model")
