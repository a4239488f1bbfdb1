"""The frame around every page: header with the app name, navigation, the runner connection, the database when
it refuses writes (or was recreated), and the llama-server build when one is in progress (or failed)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from nicegui import app, ui

from protocol.link import LinkState
from store.actor import LOCAL_ADMIN, Actor
from store.deck import RunnerLink
from ui.components.database_banner import database_banner
from ui.components.server_banner import server_banner
from ui.services import Services
from ui.toasts import failure_toasts

NAVIGATION = (("Models", "/"), ("Discover", "/discover"), ("Dashboard", "/dashboard"), ("Logs", "/logs"),
              ("Activity", "/activity"))
ADMIN_NAVIGATION = (("Keys", "/keys"), ("Users", "/users"), ("Audit", "/audit"))
TOUCH = "min-h-[44px] min-w-[44px]"  # the smallest comfortable target for a thumb
LINK_ICONS = {LinkState.CONNECTED: "cloud_done", LinkState.RECONNECTING: "cloud_sync",
              LinkState.NOT_CONNECTED: "cloud_off"}
PRIMARY = "#3b5bdb"

# Text in Quasar's brand colours where they are too faint (WCAG AA: 4.5:1 for text, 3:1 for icons). Quasar's red
# on a dark card is 2.6:1 and its primary 3.0:1, its amber on white 1.7:1; these are 7.3, 7.4 and 5.5:1 (a field's
# error message is such red text). Filled buttons and badges (white on the colour) keep the brand colours. In
# NiceGUI's "overrides" layer: an important rule there wins over Quasar's own important colour classes (a later
# layer), an unlayered one would not.
READABLE_TEXT_CSS = """
@layer overrides {
  .body--dark .text-negative, .body--dark .q-field--error .q-field__bottom { color: #ff8787 !important; }
  .body--dark .text-primary { color: #91a7ff !important; }
  .body--light .text-warning { color: #8a6100 !important; }
}
"""


def name_the_loading_bar() -> None:
    """Quasar's page-load bar at the top is a progressbar: give it a name for screen readers (axe-core 4 asks
    every progressbar for one). Its options become the bar's attributes; once, before the first page."""
    app.config.quasar_config["loadingBar"]["aria-label"] = "Loading"


def page_look() -> None:
    """The colours of every page, the sign-in pages included: dark or light as the device is."""
    ui.dark_mode(None)
    ui.colors(primary=PRIMARY)
    ui.add_css(READABLE_TEXT_CSS)


def connection_indicator(link: RunnerLink) -> None:
    """The runner link as an icon, and in words: shown beside it from tablet width, read out on phones too
    (a status region, so a screen reader says when it changes)."""
    with ui.row().classes("items-center gap-1 no-wrap").props('role=status').mark("connection"):
        icon = ui.icon("cloud_off").props('aria-hidden=true')
        icon.bind_name_from(link, "state", backward=lambda state: LINK_ICONS.get(state, "cloud_off"))
        label = ui.label().classes("text-sm max-sm:sr-only")
        label.bind_text_from(link, "state", backward=lambda state: f"runner {state}")


def account_menu(actor: Actor) -> None:
    """Who is signed in, their password and signing out (nothing to sign out of when open on loopback)."""
    with ui.button(icon="account_circle").props('flat round color=white aria-label="Account"').classes(TOUCH).mark(
            "account-menu"):
        with ui.menu():
            ui.menu_item(f"{actor.name} ({actor.role.value})").props("disable").mark("signed-in-as")
            if actor != LOCAL_ADMIN:
                ui.menu_item("Change password", on_click=lambda: ui.navigate.to("/account")).mark("to-account")
                ui.menu_item("Sign out", on_click=lambda: ui.navigate.to("/logout")).mark("sign-out")


@contextmanager
def frame(title: str, services: Services) -> Iterator[Actor]:
    """Header and a centred, phone-friendly content column for whoever is acting (yielded): their links
    and account menu, the runner's connection, and a toast for every model that fails."""
    actor = services.actor()
    page_look()
    ui.page_title(f"{title} · ModelDeck")
    failure_toasts(services.deck.failed)
    with ui.header().classes("items-center justify-between no-wrap px-2 md:px-4 py-1"):
        with ui.row().classes("items-center gap-1 no-wrap min-w-0"):
            pages = (*NAVIGATION, *(ADMIN_NAVIGATION if actor.is_admin else ()))
            with ui.button(icon="menu").props('flat round color=white aria-label="Pages"').classes(
                    f"md:hidden {TOUCH}"), ui.menu().props("auto-close"):  # phones: the pages in a thumb menu
                for text, target in pages:
                    ui.menu_item(text, on_click=lambda target=target: ui.navigate.to(target)).classes(
                        "min-h-[48px] text-base")
            ui.label("ModelDeck").classes("text-lg font-bold px-2 whitespace-nowrap")
            for text, target in pages:
                ui.link(text, target).classes(f"text-white no-underline max-md:hidden px-2 flex items-center {TOUCH}")
        with ui.row().classes("items-center gap-2 no-wrap"):
            connection_indicator(services.deck.link)
            account_menu(actor)
    with ui.column().classes("w-full max-w-screen-xl mx-auto p-4 gap-4"):
        database_banner(services.deck.database)  # writes refused, and why
        server_banner(services.deck.link.server)  # a llama-server build in progress, or why there is none
        yield actor


def admins_only(actor: Actor, what: str) -> bool:
    """The one guard of admins' pages: True for an admin; a viewer is told plainly what is not for them."""
    if actor.is_admin:
        return True
    ui.label(f"Only admins can {what}.").mark("admins-only")
    return False
