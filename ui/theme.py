"""The frame around every page: header with the app name, navigation and the runner connection."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from nicegui import ui

from store.deck import RunnerLink

NAVIGATION = (("Models", "/"),)
LINK_ICONS = {"connected": "cloud_done", "reconnecting": "cloud_sync", "not connected": "cloud_off"}


def connection_indicator(link: RunnerLink) -> None:
    with ui.row().classes("items-center gap-1 no-wrap").mark("connection"):
        icon = ui.icon("cloud_off")
        icon.bind_name_from(link, "state", backward=lambda state: LINK_ICONS.get(state, "cloud_off"))
        label = ui.label().classes("text-sm max-sm:hidden")
        label.bind_text_from(link, "state", backward=lambda state: f"runner {state}")


@contextmanager
def frame(title: str, link: RunnerLink) -> Iterator[None]:
    """Header and a centred, phone-friendly content column."""
    ui.dark_mode(None)  # follow the device
    ui.colors(primary="#3b5bdb")
    ui.page_title(f"{title} · ModelDeck")
    with ui.header().classes("items-center justify-between px-4 py-2"):
        with ui.row().classes("items-center gap-4 no-wrap"):
            ui.label("ModelDeck").classes("text-lg font-bold")
            for text, target in NAVIGATION:
                ui.link(text, target).classes("text-white no-underline")
        connection_indicator(link)
    with ui.column().classes("w-full max-w-screen-xl mx-auto p-4 gap-4"):
        yield
