"""ModelDeck as an installable web app: manifest, icons, theme colour, and a reconnecting banner.

"Add to Home screen" then opens ModelDeck full-screen with its own icon. The manifest and icons
are public (the browser fetches them without the session cookie, the sign-in page included).
NiceGUI already shows a popup while its socket is down; here it becomes a full-width banner at
the top, so a phone that lost the Wi-Fi says so plainly instead of silently ignoring taps.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from fastapi.responses import Response
from nicegui import app, ui

from ui.theme import PRIMARY  # the header's colour is the installed app's

STATIC_DIR = Path(__file__).parent / "static"
ICON_ROUTE = "/pwa"  # the icons in STATIC_DIR; auth.middleware lets these paths through unsigned
MANIFEST_ROUTE = "/manifest.webmanifest"
BACKGROUND_COLOR = "#121212"  # Quasar's dark page colour: the splash screen while the app starts
ICON_SIDES = (192, 512)

RECONNECTING_CSS = """
#popup.nicegui-error-popup {
  top: 0; bottom: auto; left: 0; right: 0; margin: 0; border: 0; border-radius: 0;
  padding: max(0.75rem, env(safe-area-inset-top)) 1rem 0.75rem;
  flex-direction: row; flex-wrap: wrap; justify-content: center; gap: 0.25rem 0.5rem;
  font-size: 1rem; text-align: center; color: #fff; box-shadow: 0 2px 8px rgba(0, 0, 0, 0.4);
}
.body--light #popup.nicegui-error-popup, .body--dark #popup.nicegui-error-popup { background-color: #c92a2a; }
#popup[aria-hidden="false"] { transition-delay: 1000ms; }
"""

# Phones: dialogs take the full width and sit at the bottom, within the thumb's reach; a long form
# scrolls inside the dialog (its buttons stay in view) and never wider than the screen.
PHONE_CSS = """
@media (max-width: 599.98px) {
  .q-dialog__inner--minimized { padding: 0; align-items: flex-end; }
  .q-dialog__inner--minimized > .q-card {
    width: 100vw; max-width: 100vw !important; max-height: 100dvh !important; border-radius: 16px 16px 0 0;
    padding-bottom: env(safe-area-inset-bottom);
  }
  .q-notifications__list--bottom { bottom: auto; top: 56px; }  /* toasts under the header, not over buttons */
  /* a form's warning stays at the bottom, above its Save row: under the header it would cover the Name field */
  .q-notifications__list--bottom:has(.form-warning) { top: auto; bottom: calc(64px + env(safe-area-inset-bottom)); }
}
.q-notification.form-warning { pointer-events: none; }  /* a note, not a wall: taps reach what is under it */
.q-dialog .q-card > .sticky { background: inherit; z-index: 1; }
.q-menu .q-item { min-height: 48px; }
.q-notification.bg-negative .q-btn { color: #fff !important; }  /* a readable close button on red */
.q-btn, .q-toggle, .q-checkbox { min-height: 44px; }
.q-btn--round { min-width: 44px; }
"""


def manifest() -> dict[str, Any]:
    return {
        "name": "ModelDeck",
        "short_name": "ModelDeck",
        "description": "Start, stop and watch your llama-server models",
        "id": "/",
        "start_url": "/",
        "scope": "/",
        "display": "standalone",
        "orientation": "any",
        "theme_color": PRIMARY,
        "background_color": BACKGROUND_COLOR,
        "icons": [{"src": f"{ICON_ROUTE}/icon-{side}.png", "sizes": f"{side}x{side}", "type": "image/png",
                   "purpose": "any maskable"} for side in ICON_SIDES],
    }


# NiceGUI brings a page's socket back by itself, and the server keeps the page meanwhile (ui/page.py): a reload
# would lose what was typed, so it is the last resort. It is needed when the server answers but will not take the
# socket back (restarted, it no longer knows the page; with sign-in on, the gate refuses the old page's socket), or
# the page would say "Connection lost" until someone reloads by hand. So while the banner shows, ask the server
# (plainly, over HTTP) every 2 s whether it is there; reload once a try to reconnect that began while it answered
# has failed, or once it has answered for GIVE_UP_MS with the socket still away (a socket the server closed itself
# makes no tries).
RECOVER_JS = """
(() => {
  const GIVE_UP_MS = 20000;
  let answering = null, triedAt = 0, refused = false, listening = false;
  setInterval(async () => {
    if (!listening && window.socket) {
      window.socket.io.on("reconnect_attempt", () => { triedAt = Date.now(); });
      window.socket.io.on("reconnect_error", () => { refused ||= answering !== null && triedAt >= answering; });
      listening = true;
    }
    const banner = document.getElementById("popup");
    if (!banner || banner.ariaHidden !== "false") { answering = null; refused = false; return; }
    try {
      if (!(await fetch("%s", {cache: "no-store"})).ok) throw new Error("not answering");
    } catch (away) { answering = null; return; }
    answering = answering ?? Date.now();
    if (refused || Date.now() - answering >= GIVE_UP_MS) location.reload();
  }, 2000);
})();
""" % MANIFEST_ROUTE  # noqa: UP031 - the script's own braces would need doubling in an f-string

HEAD_HTML = f"""
<link rel="manifest" href="{MANIFEST_ROUTE}">
<meta name="theme-color" content="{PRIMARY}">
<meta name="mobile-web-app-capable" content="yes">
<meta name="apple-mobile-web-app-capable" content="yes">
<meta name="apple-mobile-web-app-title" content="ModelDeck">
<link rel="apple-touch-icon" href="{ICON_ROUTE}/icon-192.png">
<link rel="icon" type="image/png" sizes="192x192" href="{ICON_ROUTE}/icon-192.png">
<style>{RECONNECTING_CSS}{PHONE_CSS}</style>
<script>{RECOVER_JS}</script>
"""


def install() -> None:
    """Serve the manifest and icons, and put their links into the head of every page."""
    body = json.dumps(manifest(), indent=2).encode()

    @app.get(MANIFEST_ROUTE, include_in_schema=False)
    def web_manifest() -> Response:
        return Response(body, media_type="application/manifest+json")

    for side in ICON_SIDES:
        app.add_static_file(local_file=STATIC_DIR / f"icon-{side}.png", url_path=f"{ICON_ROUTE}/icon-{side}.png")
    ui.add_head_html(HEAD_HTML, shared=True)
