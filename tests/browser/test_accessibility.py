"""axe-core (the axe-selenium-python package, its bundled axe.min.js) on every page in real Chromium,
on a phone and a desktop, light and dark: no serious or critical violation (contrast, names of
buttons and links, labels of fields, landmarks...). The models page holds a stopped model and one in
error, so the card's error line is checked too."""

from __future__ import annotations

from typing import Any

from axe_selenium_python import Axe

from tests.browser.browser import DESKTOP, PHONE, Browser
from tests.browser.deck_app import DeckApp
from tests.browser.test_pages import page_paths

SERIOUS = frozenset({"serious", "critical"})
# The axe-core that axe-selenium-python 2.1.6 bundles (3.1.1) predates ARIA 1.2 and flags two things of every
# collapsed Quasar select (a combobox) that ARIA 1.2 allows and axe-core 4 accepts: `aria-readonly` on a
# combobox, and `aria-controls` naming its listbox before the listbox exists. Only those exact findings are set
# aside; anything else on a select, or these on another element, still counts.
ARIA_12_COMBOBOX = (("aria-allowed-attr", 'ARIA attribute is not allowed: aria-readonly="false"'),
                    ("aria-valid-attr-value", "Invalid ARIA attribute value: aria-controls="))
NAME = "alice"
PASSWORD = "a long enough phone password"


def serious_violations(browser: Browser) -> list[dict[str, Any]]:
    """What axe finds on the page as it is now that a person would be hindered by (serious, critical)."""
    browser.wait_still()
    axe = Axe(browser.driver)
    axe.inject()
    results = axe.run()
    found = []
    for violation in results["violations"]:
        nodes = [node for node in violation["nodes"] if not _collapsed_combobox_finding(violation["id"], node)]
        if violation["impact"] in SERIOUS and nodes:
            found.append({"rule": violation["id"], "impact": violation["impact"], "help": violation["help"],
                          "where": [(node["html"][:160], node["failureSummary"]) for node in nodes[:4]]})
    return found


def _collapsed_combobox_finding(rule: str, node: dict[str, Any]) -> bool:
    messages = [check["message"] for kind in ("any", "all", "none") for check in node[kind]]
    return ('role="combobox"' in node["html"] and 'aria-expanded="false"' in node["html"] and bool(messages)
            and all(any(rule == known and message.startswith(text) for known, text in ARIA_12_COMBOBOX)
                    for message in messages))


def report(problems: dict[str, list[dict[str, Any]]]) -> str:
    return "\n".join(f"{where}: {v['rule']} ({v['impact']}) {v['help']}: {v['where']}"
                     for where, found in problems.items() for v in found)


def check_everywhere(browser: Browser, url: str, problems: dict[str, list[dict[str, Any]]]) -> None:
    """The page at `url` in both colour schemes, at phone and desktop width."""
    browser.open(url)
    for scheme in ("dark", "light"):
        browser.color_scheme(scheme)
        browser.wait_for_scheme(scheme)
        for view in (PHONE, DESKTOP):
            browser.device(view)
            if found := serious_violations(browser):
                problems[f"{browser.path} at {view.width} px in {scheme} mode"] = found


def test_every_page_has_no_serious_accessibility_violation(browser: Browser, deck_app: DeckApp) -> None:
    broken = deck_app.models_dir / "unreadable.gguf"
    broken.write_bytes(b"GGUF" + b"\x00" * 64)  # llama-server refuses it: a card with an error line
    browser.open(deck_app.url)
    names = ["Axe stopped", "Axe running", "Axe broken"]
    browser.add_model(names[0], str(deck_app.models_dir / "tiny.gguf"))
    running = browser.add_model(names[1], str(deck_app.models_dir / "tiny-chat.gguf"))
    browser.tap(browser.button("Start", within=running))
    browser.wait.until(lambda _: "idle" in browser.card(names[1]).text, "a running card with its figures")
    broken_card = browser.add_model(names[2], str(broken))
    browser.tap(browser.button("Start", within=broken_card))
    browser.see_text_confirming("Axe broken stopped with an error", confirm="Start anyway")
    problems: dict[str, list[dict[str, Any]]] = {}
    try:
        for path in page_paths(browser, deck_app.url):
            check_everywhere(browser, deck_app.url + path, problems)
    finally:
        browser.reset()
        browser.open(deck_app.url)
        browser.tap(browser.button("Stop", within=browser.card(names[1])))
        browser.wait.until(lambda _: "stopped" in browser.card(names[1]).text, "stopped")
        for name in names:
            browser.delete_model(name)
        broken.unlink()
    assert not problems, report(problems)


def test_the_sign_in_pages_have_no_serious_accessibility_violation(browser: Browser, locked_app: DeckApp) -> None:
    problems: dict[str, list[dict[str, Any]]] = {}
    check_everywhere(browser, locked_app.url + "/login", problems)  # "no account exists yet"
    check_everywhere(browser, locked_app.setup_link(), problems)
    browser.reset()
    browser.type_into("User name", NAME)
    browser.type_into("Password", PASSWORD)
    browser.type_into("Password again", PASSWORD)
    browser.tap(browser.button("Create account"))
    browser.wait.until(lambda _: browser.path == "/", "signed in")
    check_everywhere(browser, locked_app.url + "/account", problems)  # a real account: the password form
    browser.open(locked_app.url + "/logout")
    check_everywhere(browser, locked_app.url + "/login", problems)
    assert not problems, report(problems)
