"""What a person does in the browser, and what they would notice, in selenium terms.

Elements are found the way a person finds them: by the text on a button, the label of a field,
the name on a card, the aria-label of an icon button. Every wait is a WebDriverWait on a condition.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

from selenium import webdriver
from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.remote.webelement import WebElement
from selenium.webdriver.support import expected_conditions as seen
from selenium.webdriver.support.ui import WebDriverWait

WAIT_S = 10.0
MIN_TARGET_PX = 44  # the smallest comfortable touch target (Apple HIG, WCAG 2.5.5)


@dataclass(frozen=True)
class Viewport:
    name: str
    width: int
    height: int
    mobile: bool
    scale: float = 1.0


PHONE = Viewport("phone", 390, 844, mobile=True)
NARROW_PHONE = Viewport("narrow", 360, 740, mobile=True)
DESKTOP = Viewport("desktop", 1280, 800, mobile=False)

# Every visible control a finger may aim at, with its size, its text, and whether it is too small.
TARGETS_JS = """
const min = arguments[0];
const selector = 'button, a[href], .q-item--clickable, .q-toggle, .q-checkbox, [role=button]';
return [...document.querySelectorAll(selector)].filter(e => {
  const r = e.getBoundingClientRect(), s = getComputedStyle(e);
  return r.width > 0 && r.height > 0 && s.visibility !== 'hidden' && !e.closest('[aria-hidden=true]');
}).map(e => {
  const r = e.getBoundingClientRect();
  return {text: (e.getAttribute('aria-label') || e.innerText || e.className).trim().slice(0, 40),
          width: Math.round(r.width), height: Math.round(r.height)};
}).filter(t => t.width < min || t.height < min);
"""


def _xpath_text(text: str) -> str:
    return f"normalize-space()={text!r}" if "'" not in text else f'normalize-space()="{text}"'


class Browser:
    def __init__(self, driver: webdriver.Chrome, shots: Path) -> None:
        self.driver = driver
        self.shots = shots
        self.wait = WebDriverWait(driver, WAIT_S, ignored_exceptions=(StaleElementReferenceException,))
        self.view = DESKTOP

    # ---- the device ------------------------------------------------------------------------

    def device(self, view: Viewport) -> None:
        """Emulate a screen: a phone gets a mobile viewport (meta viewport honoured) and touch."""
        self.view = view
        self.driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {
            "width": view.width, "height": view.height, "deviceScaleFactor": view.scale, "mobile": view.mobile})
        self.driver.execute_cdp_cmd("Emulation.setTouchEmulationEnabled", {"enabled": view.mobile})

    def color_scheme(self, scheme: str) -> None:
        """'dark' or 'light', as the operating system would say it (prefers-color-scheme)."""
        self.driver.execute_cdp_cmd("Emulation.setEmulatedMedia", {
            "features": [{"name": "prefers-color-scheme", "value": scheme}]})

    def wait_for_scheme(self, scheme: str) -> None:
        """Until the open page follows `scheme` (it switches on the media query's change event, a moment later)."""
        self.wait.until(lambda _: self.js("return document.body.classList.contains(arguments[0])", f"body--{scheme}"),
                        f"the page in {scheme} mode")

    def reset(self) -> None:
        self.driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
        self.driver.execute_cdp_cmd("Emulation.setTouchEmulationEnabled", {"enabled": False})
        self.driver.execute_cdp_cmd("Emulation.setEmulatedMedia", {"features": []})

    # ---- pages -----------------------------------------------------------------------------

    def open(self, url: str) -> None:
        """Load a page and wait until NiceGUI's socket is connected (the page reacts to taps)."""
        self.driver.get(url)
        self.wait_connected()

    def wait_connected(self) -> None:
        self.wait.until(lambda d: d.execute_script(
            "return window.did_handshake === true && document.getElementById('popup').ariaHidden === 'true'"),
            "NiceGUI's socket connected")

    @property
    def path(self) -> str:
        return str(self.driver.execute_script("return location.pathname"))

    def js(self, script: str, *args: Any) -> Any:
        return self.driver.execute_script(script, *args)

    # ---- finding things --------------------------------------------------------------------

    def button(self, text: str, within: WebElement | None = None) -> WebElement:
        """A visible button by its text or aria-label (icon buttons), on the page or inside an element."""
        xpath = f".//button[.//span[{_xpath_text(text)}] or @aria-label={text!r}]"
        if within is None:
            return self.wait.until(seen.visibility_of_element_located((By.XPATH, xpath)), f"a button {text!r}")
        root = within
        found = self.wait.until(lambda _: next((b for b in root.find_elements(By.XPATH, xpath) if b.is_displayed()),
                                               None), f"a button {text!r}")
        return cast(WebElement, found)

    def menu_item(self, text: str) -> WebElement:
        xpath = f"//div[contains(@class,'q-menu')]//div[contains(@class,'q-item')][{_xpath_text(text)}]"
        return self.wait.until(seen.visibility_of_element_located((By.XPATH, xpath)), f"a menu item {text!r}")

    def field(self, label: str) -> WebElement:
        """A text field by its visible label (Quasar puts it on the input as aria-label)."""
        xpath = f"//input[@aria-label={label!r}] | //textarea[@aria-label={label!r}]"
        return self.wait.until(seen.visibility_of_element_located((By.XPATH, xpath)), f"a field {label!r}")

    def card(self, name: str) -> WebElement:
        xpath = f"//div[contains(@class,'q-card')][.//div[{_xpath_text(name)}]]"
        return self.wait.until(seen.visibility_of_element_located((By.XPATH, xpath)), f"the card of {name}")

    def card_gone(self, name: str) -> None:
        xpath = f"//div[contains(@class,'q-card')][.//div[{_xpath_text(name)}]]"
        self.wait.until(lambda d: not d.find_elements(By.XPATH, xpath), f"the card of {name} gone")

    def dialog(self) -> WebElement:
        return self.wait.until(seen.visibility_of_element_located((By.CSS_SELECTOR, ".q-dialog .q-card")),
                               "an open dialog")

    def dialog_with(self, text: str) -> WebElement:
        """The open dialog that shows `text` (one dialog may open over another)."""
        found = self.wait.until(lambda d: next((e for e in d.find_elements(By.CSS_SELECTOR, ".q-dialog .q-card")
                                                if e.is_displayed() and text in e.text), None),
                                f"a dialog with {text!r}")
        return cast(WebElement, found)

    def see_text(self, text: str) -> WebElement:
        xpath = f"//*[not(self::script)][contains(normalize-space(text()), {text!r})]"
        found = self.wait.until(lambda d: next((e for e in d.find_elements(By.XPATH, xpath) if e.is_displayed()),
                                               None), f"the text {text!r}")
        return cast(WebElement, found)

    def see_text_confirming(self, text: str, confirm: str) -> WebElement:
        """Wait for a text; if a question with the button `confirm` comes first, answer it, as a person would."""
        buttons = f"//div[contains(@class,'q-dialog')]//button[.//span[{_xpath_text(confirm)}]]"
        texts = f"//*[not(self::script)][contains(normalize-space(text()), {text!r})]"
        while True:
            found = self.wait.until(lambda d: next((e for e in d.find_elements(By.XPATH, f"{texts} | {buttons}")
                                                    if e.is_displayed()), None), f"the text {text!r}")
            element = cast(WebElement, found)
            if element.tag_name != "button":
                return element
            self.tap(element)
            self.no_longer_see(element, f"the {confirm} button")

    def no_longer_see(self, element: WebElement, what: str) -> None:
        self.wait.until(seen.invisibility_of_element(element), f"{what} gone")

    # ---- doing things ----------------------------------------------------------------------

    def tap(self, element: WebElement) -> None:
        """Where the person sees it once it stopped moving: a dialog still sliding in has its button elsewhere by the
        time a click computed mid-way lands (selenium: "element click intercepted")."""
        self.js("arguments[0].scrollIntoView({block: 'center'})", element)
        self.wait_still()
        self.wait.until(seen.element_to_be_clickable(element), "clickable").click()

    def type_into(self, label: str, text: str) -> None:
        """Replace what the field holds with `text`, typed."""
        element = self.field(label)
        element.clear()
        if element.get_attribute("value"):  # a prefilled Quasar field keeps its value through clear()
            element.send_keys(Keys.CONTROL, "a")
            element.send_keys(Keys.DELETE)
        element.send_keys(text)

    def add_model(self, name: str, model_file: str, *, context_size: int | None = None) -> WebElement:
        """Add model, fill in the name and file (and the context size, if given), Save: the new card."""
        self.tap(self.button("Add model"))
        form = self.dialog()
        self.type_into("Name", name)
        if context_size is not None:  # before the file: a context typed first is kept when the file is chosen
            self.type_into("Context size", str(context_size))
        self.type_into("Model file (.gguf)", model_file)
        self.tap(self.button("Save", within=form))
        self.no_longer_see(form, "the form")
        return self.card(name)

    def delete_model(self, name: str) -> None:
        """The card's menu, Delete, confirm: the card is gone."""
        self.tap(self.button("Model actions", within=self.card(name)))
        self.tap(self.menu_item("Delete"))
        self.tap(self.button("Delete", within=self.dialog()))
        self.card_gone(name)

    def sign_in_if_asked(self, name: str, password: str) -> None:
        if self.path == "/login":
            self.type_into("User name", name)
            self.type_into("Password", password)
            self.tap(self.button("Sign in"))
            self.wait.until(lambda _: self.path != "/login", "signed in")
            self.wait_connected()

    # ---- what a person notices ---------------------------------------------------------------

    def horizontal_overflow(self) -> int:
        """How many pixels the page is wider than the screen (0: no sideways scrolling)."""
        return int(self.js("return document.documentElement.scrollWidth - window.innerWidth"))

    def small_targets(self) -> list[dict[str, Any]]:
        return list(self.js(TARGETS_JS, MIN_TARGET_PX))

    def wait_still(self) -> None:
        """Until menus, dialogs and toasts have finished moving (a tap lands where the person sees the target); a
        spinner turns for ever and moves nothing."""
        self.wait.until(lambda _: self.js("return document.getAnimations().every(a => a.playState !== 'running'"
                                          " || a.effect?.getComputedTiming().iterations === Infinity)"),
                        "animations finished")

    def screenshot(self, name: str) -> Path:
        """What the screen shows once menus, dialogs and toasts have finished moving."""
        self.wait_still()
        path = self.shots / f"{name}-{self.view.name}.png"
        self.driver.save_screenshot(str(path))
        return path
