"""The form in real Chromium on a phone (#17, item 2): a number keeps what the person typed, and Save says on
the field, in plain words, why it cannot be stored; the form never scrolls sideways."""

from __future__ import annotations

import pytest
from axe_selenium_python import Axe
from selenium.webdriver.common.by import By

from tests.browser.browser import NARROW_PHONE, PHONE, Browser, Viewport
from tests.browser.deck_app import DeckApp

SIDEWAYS_JS = "return arguments[0].scrollWidth - arguments[0].clientWidth"  # 0: nothing beyond its right edge


@pytest.mark.parametrize("view", [NARROW_PHONE, PHONE], ids=lambda view: view.name)
def test_port_80_stays_80_and_the_field_says_why(browser: Browser, deck_app: DeckApp, view: Viewport) -> None:
    browser.device(view)
    browser.color_scheme("dark")
    browser.open(deck_app.url)
    browser.wait_for_scheme("dark")
    browser.tap(browser.button("Add model"))
    form = browser.dialog()
    browser.type_into("Name", "typed")
    browser.type_into("Model file (.gguf)", str(deck_app.models_dir / "tiny.gguf"))
    port = browser.field("Port (empty: automatic)")
    browser.tap(port)
    port.send_keys("80")
    browser.tap(browser.button("Save", within=form))
    message = browser.see_text("Port must be between 1024 and 65535")
    on_the_field = port.find_element(By.XPATH, "./ancestor::label[contains(@class, 'q-field')][1]")
    assert message in on_the_field.find_elements(By.XPATH, ".//*"), "the message is under the Port field"
    assert port.get_attribute("value") == "80"  # not 1024
    browser.js("arguments[0].setAttribute('data-checked', 'contrast')", message)  # what axe-core looks at
    axe = Axe(browser.driver)
    axe.inject()
    found = axe.run({"include": [["[data-checked=contrast]"]]},
                    {"runOnly": {"type": "rule", "values": ["color-contrast"]}})
    assert found["passes"] and not found["violations"], "the message is readable in dark mode"
    browser.tap(browser.button("Save", within=form))  # again: still refused, still 80
    browser.see_text("Please correct the marked fields: port")
    assert port.get_attribute("value") == "80"
    assert browser.horizontal_overflow() == 0
    assert browser.js(SIDEWAYS_JS, form) <= 0, "the form scrolls sideways"
    if view is PHONE:
        browser.js("arguments[0].scrollIntoView({block: 'center'})", port)
        browser.screenshot("form-port-error-dark")
    browser.tap(browser.button("Cancel", within=form))
    browser.no_longer_see(form, "the form")
    assert not browser.driver.find_elements(By.XPATH, "//div[contains(@class,'q-card')][.//div[text()='typed']]")
