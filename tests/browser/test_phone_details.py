"""What a person notices in the first hour, on a phone and in dark mode: a card's error line they can
read, a form warning that does not sit on the field they must fix, an audit log that fits the
screen, and a runner indicator a screen reader can say."""

from __future__ import annotations

from typing import Any

from axe_selenium_python import Axe
from selenium.webdriver.common.by import By

from tests.browser.browser import DESKTOP, NARROW_PHONE, PHONE, Browser
from tests.browser.deck_app import DeckApp

TOAST = "./ancestor::div[contains(concat(' ', @class, ' '), ' q-notification ')][1]"  # the toast around a text


def test_a_cards_error_line_is_readable_in_dark_mode(browser: Browser, deck_app: DeckApp) -> None:
    broken = deck_app.models_dir / "no-model.gguf"
    broken.write_bytes(b"GGUF" + b"\x00" * 64)
    browser.device(PHONE)
    browser.color_scheme("dark")
    browser.open(deck_app.url)
    card = browser.add_model("Unreadable", str(broken))
    try:
        browser.tap(browser.button("Start", within=card))
        toast = browser.see_text_confirming("Unreadable stopped with an error", confirm="Start anyway")
        browser.tap(browser.button("OK", within=toast.find_element(By.XPATH, TOAST)))  # read: it covered the card
        browser.no_longer_see(toast, "the crash toast")
        line = browser.card("Unreadable").find_element(By.XPATH, ".//div[contains(text(), 'exit code 1')]")
        browser.screenshot("error-line-dark")
        axe = Axe(browser.driver)
        axe.inject()
        found = axe.run({"include": [[f"#{line.get_attribute('id')}"]]},
                        {"runOnly": {"type": "rule", "values": ["color-contrast"]}})
        assert found["passes"] and not found["violations"], [n["any"][0]["message"] for v in found["violations"]
                                                              for n in v["nodes"]]
    finally:
        browser.delete_model("Unreadable")
        broken.unlink()


CENTRE_JS = """
const r = arguments[0].getBoundingClientRect();
return document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);
"""


def box(browser: Browser, element: Any) -> dict[str, float]:
    return dict(browser.js("return arguments[0].getBoundingClientRect().toJSON()", element))


def test_the_forms_warning_on_a_phone_leaves_the_fields_in_view_and_within_reach(
        browser: Browser, deck_app: DeckApp) -> None:
    browser.device(PHONE)
    browser.open(deck_app.url)
    browser.tap(browser.button("Add model"))
    form = browser.dialog()
    browser.wait_still()  # the form has slid up
    browser.button("Save", within=form).click()  # nothing filled in; as a thumb does, without scrolling the form
    toast = browser.see_text("Please correct the marked fields")
    toast = toast.find_element(By.XPATH, TOAST)
    browser.screenshot("form-warning")
    name = browser.field("Name")
    warning, field = box(browser, toast), box(browser, name)
    assert warning["bottom"] <= field["top"] or warning["top"] >= field["bottom"], "the warning covers Name"
    assert browser.js(CENTRE_JS, name) == name, "a tap on Name reaches it"
    assert browser.js(CENTRE_JS, toast) != toast, "a tap on the warning goes to what is under it"
    browser.tap(name)  # the person fixes it at once
    name.send_keys("Fixed at once")
    assert name.get_attribute("value") == "Fixed at once"
    browser.no_longer_see(toast, "the warning")  # it goes by itself
    browser.tap(browser.button("Cancel", within=form))


def test_the_audit_log_fits_a_360_px_phone(browser: Browser, deck_app: DeckApp) -> None:
    browser.open(deck_app.url)
    browser.add_model("Audited", str(deck_app.models_dir / "tiny.gguf"))
    browser.delete_model("Audited")  # two entries: added, deleted
    browser.device(NARROW_PHONE)
    browser.open(f"{deck_app.url}/audit")
    table = browser.wait.until(lambda d: d.find_element(By.CSS_SELECTOR, ".q-table__container"), "the audit table")
    browser.see_text("Audited")
    browser.screenshot("audit")
    assert browser.horizontal_overflow() == 0
    off_screen = browser.js("""
        return [...arguments[0].querySelectorAll('*')].filter(e => e.children.length === 0 && e.innerText?.trim())
          .filter(e => {
            const r = e.getBoundingClientRect();
            return r.width > 0 && (r.left < 0 || r.right > innerWidth);
          })
          .map(e => e.innerText.trim());""", table)
    assert not off_screen, f"off screen at 360 px: {off_screen}"
    for label in ("When (UTC)", "Who", "What", "On", "Detail", "From"):  # every column, for every entry
        browser.see_text(label)


def ax_names(browser: Browser) -> list[str]:
    """What a screen reader can say on the page: the names of the accessibility tree's nodes."""
    tree = browser.driver.execute_cdp_cmd("Accessibility.getFullAXTree", {})
    return [str(node["name"]["value"]) for node in tree["nodes"]
            if not node.get("ignored") and node.get("name", {}).get("value")]


def test_the_runner_indicator_says_its_state_to_a_screen_reader(browser: Browser, deck_app: DeckApp) -> None:
    for view in (PHONE, DESKTOP):
        browser.device(view)
        browser.open(deck_app.url)
        browser.see_text("Models")
        names = ax_names(browser)
        assert "runner connected" in names, f"at {view.width} px"
        ligatures = {"cloud_done", "cloud_off", "cloud_sync"} & set(names)
        assert not ligatures, f"an icon's ligature read out at {view.width} px: {ligatures}"
