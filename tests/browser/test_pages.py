"""Every page on a small phone and on a desktop, in dark and light mode: nothing wider than the
screen, nothing too small to tap, readable colours. Screenshots of each in test-artifacts/screens/."""

from __future__ import annotations

from selenium.common.exceptions import TimeoutException
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from tests.browser.browser import DESKTOP, NARROW_PHONE, PHONE, Browser
from tests.browser.deck_app import DeckApp

# The page's background and text brightness (0 black .. 1 white), as the eye sees them.
BRIGHTNESS_JS = """
const lum = c => {
  const [r, g, b, a] = c.match(/\\d+(\\.\\d+)?/g).map(Number);
  return a === 0 ? 1 : (0.2126 * r + 0.7152 * g + 0.0722 * b) / 255;  // transparent: the white canvas
};
const body = getComputedStyle(document.body);
const heading = document.querySelector('.q-page-container .text-2xl, .q-page-container .text-xl') || document.body;
return {background: lum(body.backgroundColor), text: lum(getComputedStyle(heading).color)};
"""


def readable(colours: dict[str, float], scheme: str) -> bool:
    if scheme == "dark":
        return colours["background"] < 0.25 and colours["text"] > 0.7
    return colours["background"] > 0.75 and colours["text"] < 0.3


def colours_for(browser: Browser, scheme: str) -> dict[str, float]:
    """The page's colours once it has followed the device's new setting (it switches on the media query's
    change event, a moment after the emulation changes); the last reading if it never does within 3 s."""
    seen: dict[str, float] = {}

    def settled(_: object) -> bool:
        seen.update(browser.js(BRIGHTNESS_JS))
        return readable(seen, scheme)

    try:
        WebDriverWait(browser.driver, 3).until(settled)
    except TimeoutException:
        pass
    return seen


def page_paths(browser: Browser, url: str) -> list[str]:
    """Every page the header links to (so a new page is covered as soon as it is in the header), and /account."""
    browser.device(DESKTOP)
    browser.open(url)
    links = browser.driver.find_elements(By.CSS_SELECTOR, "header a[href]")
    paths = {str(browser.js("return new URL(arguments[0].href).pathname", link)) for link in links}
    return sorted(paths | {"/account"})


def test_every_page_fits_a_360_px_phone_with_thumb_sized_targets(browser: Browser, deck_app: DeckApp) -> None:
    paths = page_paths(browser, deck_app.url)
    assert {"/", "/users", "/audit"} <= set(paths)
    problems: dict[str, object] = {}
    for path in paths:
        browser.open(deck_app.url + path)
        for scheme in ("dark", "light"):  # the page follows the device's setting live, as does its layout
            browser.color_scheme(scheme)
            for view in (NARROW_PHONE, PHONE, DESKTOP):
                browser.device(view)
                where = f"{path} at {view.width} px in {scheme} mode"
                colours = colours_for(browser, scheme)
                if view is not NARROW_PHONE:
                    browser.screenshot(f"page{path.replace('/', '-').rstrip('-') or '-models'}-{scheme}")
                if not readable(colours, scheme):
                    problems[f"{where}: colours"] = colours
                if view is DESKTOP:
                    continue
                if not browser.js("return document.documentElement.scrollWidth <= window.innerWidth"):
                    problems[f"{where}: scrolls sideways by"] = browser.horizontal_overflow()
                if small := browser.small_targets():
                    problems[f"{where}: small targets"] = small
    assert not problems, problems


def test_the_phone_menu_reaches_every_page(browser: Browser, deck_app: DeckApp) -> None:
    browser.device(NARROW_PHONE)
    browser.open(deck_app.url)
    browser.tap(browser.button("Pages"))
    browser.screenshot("pages-menu")
    browser.tap(browser.menu_item("Audit"))
    browser.wait.until(lambda _: browser.path == "/audit", "on the audit page")


def test_it_installs_as_a_full_screen_web_app(browser: Browser, deck_app: DeckApp) -> None:
    browser.open(deck_app.url)
    head = browser.js("""return {
        manifest: document.querySelector('link[rel=manifest]')?.href,
        theme: document.querySelector('meta[name=theme-color]')?.content,
        touchIcon: document.querySelector('link[rel=apple-touch-icon]')?.href}""")
    assert head["manifest"] == f"{deck_app.url}/manifest.webmanifest"
    assert head["theme"], "a theme colour for the status bar"
    manifest = browser.driver.execute_async_script(
        "fetch(arguments[0]).then(r => r.json()).then(arguments[arguments.length - 1])", head["manifest"])
    assert manifest["name"] == "ModelDeck" and manifest["short_name"]
    assert manifest["start_url"] == "/" and manifest["display"] == "standalone"
    assert manifest["theme_color"] == head["theme"] and manifest["background_color"]
    sizes = {icon["sizes"]: icon["src"] for icon in manifest["icons"]}
    assert {"192x192", "512x512"} <= set(sizes)
    for declared, src in (*sizes.items(), ("192x192", head["touchIcon"])):
        drawn = browser.driver.execute_async_script("""
            const done = arguments[arguments.length - 1];
            fetch(new URL(arguments[0], location.href)).then(r => r.ok ? r.blob() : Promise.reject(r.status))
              .then(createImageBitmap).then(b => done(`${b.width}x${b.height}`), e => done(String(e)));""", src)
        assert drawn == declared, f"{src} is {drawn}, declared {declared}"
