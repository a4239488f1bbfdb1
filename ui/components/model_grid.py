"""The grid of cards on the models page, with the search box and the status filter that narrow it.

What matches is decided here, in Python, once (select mode's "All shown" asks the same question); the browser is
told only which cards stay (`shown`), so a keystroke updates one element, not one per card.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from nicegui import ui

from protocol import ModelStatus
from store.model_state import ModelState
from ui.components.model_card import menu_for

FEW = 5  # with more models than this, the page offers a search box and a status filter
ANY_STATUS = "any"
STATUS_CHOICES = {ANY_STATUS: "Any status", **{str(status): str(status).capitalize() for status in ModelStatus}}


class ModelGrid(ui.element, component="model_grid.js"):
    """`read_only` (a viewer): its cards offer no Start, Stop or change in their menus."""

    def __init__(self, *, read_only: bool) -> None:
        super().__init__()
        self._props["shown"] = None
        self._props["menu"] = menu_for(read_only=read_only)
        self._props["changes"] = not read_only
        self.mark("model-grid")

    def show_only(self, uids: list[str] | None) -> None:
        """A method call, not an update of the element: an update would re-render every card in the grid."""
        if self._props["shown"] != uids:
            self._props["shown"] = uids
            self.run_method("showOnly", uids)


def matches(state: ModelState, words: str, status: str) -> bool:
    """Every word typed is in the name, the family or the file's path (any case), and the status is the one
    chosen."""
    if status not in (ANY_STATUS, state.status):
        return False
    config = state.config
    text = f"{config.name} {config.family or ''} {config.model_path}".lower()
    return all(word in text for word in words.lower().split())


class ModelSearch:
    """The search box and the status filter of one page; `shown()` is what they leave on screen."""

    def __init__(self, states: Callable[[], list[ModelState]]) -> None:
        self.states = states
        self.words = ""
        self.status = ANY_STATUS
        self.grid: ModelGrid | None = None
        with ui.row().classes("w-full items-center gap-2 no-wrap").mark("model-search") as self.controls:
            ui.input(placeholder="Search models", on_change=self._typed).props(
                'outlined type=search aria-label="Search models"').classes(
                "grow min-w-0").mark("search")
            ui.select(STATUS_CHOICES, value=ANY_STATUS, on_change=self._chose).props(
                'outlined aria-label="Status"').classes("w-36 shrink-0").mark("status-filter")
        self.nothing = ui.label().classes("opacity-80").mark("no-match")
        self.nothing.visible = False

    @property
    def active(self) -> bool:
        return bool(self.words.strip()) or self.status != ANY_STATUS

    def shown(self) -> list[ModelState]:
        states = self.states()
        return [state for state in states if matches(state, self.words, self.status)] if self.active else states

    def follow(self, grid: ModelGrid | None, count: int) -> None:
        """The page (re)built its grid of `count` cards: offer the controls if there are more than a few."""
        self.grid = grid
        self.controls.visible = count > FEW or self.active
        self.apply()

    def apply(self) -> None:
        if self.grid is None or self.grid.is_deleted:
            self.nothing.visible = False
            return
        shown = [state.uid for state in self.shown()] if self.active else None
        self.grid.show_only(shown)
        self.nothing.visible = shown == []
        self.nothing.text = "No model matches." if shown == [] else ""

    def status_changed(self, _uid: str) -> None:
        if self.status != ANY_STATUS:  # a model that stops leaves "Running"
            self.apply()

    def _typed(self, event: Any) -> None:
        self.words = event.value or ""
        self.apply()

    def _chose(self, event: Any) -> None:
        self.status = event.value or ANY_STATUS
        self.apply()

