"""Tailwind's utilities for every page, built ahead rather than in the browser.

NiceGUI's default is Tailwind's browser runtime: at every page load it compiles the classes it finds in the page
and rebuilds on every change of them, 40-100 ms of a phone's main thread before the page answers a tap
(docs/architecture.md, "The models page"). `make css` builds the same utilities once from the classes in ui/
(ui/styles/tailwind.input.css); the app runs with `tailwind=False` and puts the result in every page's head.
"""

from __future__ import annotations

from pathlib import Path

from nicegui import ui

STYLESHEET = Path(__file__).parent / "styles" / "tailwind.css"


def install() -> None:
    ui.add_css(STYLESHEET, shared=True)
