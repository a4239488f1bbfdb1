"""The grid of cards on the models page, with the search box and the status filter that narrow it.

The grid is one element that holds its cards as data (each card's face, ui/components/card_face.py); the browser
renders every card from it (model_grid.js, model_card.js). So a page's elements do not grow with its cards, and a
change of one model is one small message to the browser, not an update of an element.

What matches a search is defined once, here: `match_text` (card_face.py) says what is looked in, `matches` the
rule. The browser filters with the same text and rule as a person types, without waiting for the server; the
server mirrors the box and the filter, so select mode's "All shown" picks exactly what is on screen.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from nicegui import ui
from nicegui.events import GenericEventArguments

from protocol import ModelStatus
from store.model_state import ModelState
from ui.components.card_face import CardFaces, match_text
from ui.components.model_card import CardActions, ModelCard, menu_for

FEW = 5  # with more models than this, the page offers a search box and a status filter
ANY_STATUS = "any"
STATUS_CHOICES = {ANY_STATUS: "Any status", **{str(status): str(status).capitalize() for status in ModelStatus}}


def matches(state: ModelState, words: str, status: str) -> bool:
    """Every word typed is in the name, the family or the file's path (any case), and the status is the one
    chosen. model_grid.js applies the same rule to the same text."""
    if status not in (ANY_STATUS, state.status):
        return False
    text = match_text(state)
    return all(word in text for word in words.lower().split())


class ModelSearch:
    """The search box and the status filter of one page; `shown()` is what they leave on screen."""

    def __init__(self, states: Callable[[], list[ModelState]]) -> None:
        self.states = states
        self.words = ""
        self.status = ANY_STATUS
        self.grid: ModelGrid | None = None
        with ui.row().classes("w-full items-center gap-2 no-wrap").mark("model-search") as self.controls:
            self.box = ui.input(placeholder="Search models", on_change=self._typed).props(
                'outlined type=search aria-label="Search models"').classes(
                "grow min-w-0").mark("search")
            ui.select(STATUS_CHOICES, value=ANY_STATUS, on_change=self._chose).props(
                'outlined aria-label="Status"').classes("w-36 shrink-0").mark("status-filter")
        self.nothing = ui.label().classes("opacity-80").mark("no-match")
        self.nothing.visible = False

    @property
    def active(self) -> bool:
        return bool(self.words.strip()) or self.status != ANY_STATUS

    def shows(self, state: ModelState) -> bool:
        return matches(state, self.words, self.status)

    def shown(self) -> list[ModelState]:
        states = self.states()
        return [state for state in states if self.shows(state)] if self.active else states

    def follow(self, grid: ModelGrid | None, count: int) -> None:
        """The page (re)built its grid of `count` cards: offer the controls if there are more than a few."""
        self.grid = grid
        self.controls.visible = count > FEW or self.active
        self.apply()

    def apply(self) -> None:
        if self.grid is None or self.grid.is_deleted:
            self.nothing.visible = False
            return
        self.grid.choose_status(self.status)
        none = self.active and not self.shown()
        self.nothing.visible = none
        self.nothing.text = "No model matches." if none else ""

    def status_changed(self, _uid: str) -> None:
        if self.status != ANY_STATUS:  # a model that stops leaves "Running"
            self.apply()

    def _typed(self, event: Any) -> None:
        self.words = event.value or ""
        self.apply()

    def _chose(self, event: Any) -> None:
        self.status = event.value or ANY_STATUS
        self.apply()


class ModelGrid(ui.element, component="model_grid.js", dependencies=["model_card.js"]):
    """The page's cards, in the deck's order. `states`: the models whose cards are in the page as it loads (the
    rest follow with `add`). `read_only` (a viewer): its cards offer no Start, Stop or change in their menus.
    `search`: the page's search, which the browser's grid follows keystroke by keystroke. `pick`: called with a uid
    and True or False when a person ticks or clears a card's box in select mode.

    The element's props are the page as it loads, set once: every change after it goes to the browser as a method
    call (NiceGUI sends an element again whole, here every card, when anything in its props changes)."""

    def __init__(self, faces: CardFaces, actions: CardActions, search: ModelSearch, states: list[ModelState],
                 pick: Callable[[str, bool], None], *, read_only: bool) -> None:
        super().__init__()
        self.faces, self.actions, self.search, self.read_only = faces, actions, search, read_only
        self.cards = {state.uid: ModelCard(state, faces.of(state), read_only=read_only) for state in states}
        self.selecting, self.selected, self.status = False, set[str](), search.status
        self._props.update(order=list(self.cards), faces={uid: card.sent for uid, card in self.cards.items()},
                           menu=menu_for(read_only=read_only), changes=not read_only, search=search.box.html_id,
                           status=self.status)
        self.on("action", self._act)
        self.on("pick", lambda event: pick(str(event.args[0]), bool(event.args[1])))
        self.mark("model-grid")

    def add(self, states: list[ModelState], index: int | None = None) -> None:
        """Cards for these models, at `index` in the grid (at the end if None), in one message."""
        cards = [(state.uid, ModelCard(state, self.faces.of(state), read_only=self.read_only)) for state in states]
        at = len(self.cards) if index is None else index
        listed = list(self.cards.items())
        self.cards = dict(listed[:at] + cards + listed[at:])
        self.run_method("add", [[uid, card.sent] for uid, card in cards], index)

    def drop(self, uid: str) -> None:
        if self.cards.pop(uid, None) is not None:
            self.run_method("drop", uid)

    def changed(self, uid: str) -> None:
        """The face of this model changed: to the browser as a method call."""
        card = self.cards.get(uid)
        if card is not None:
            self.run_method("show", uid, card.sent)

    def choose_status(self, status: str) -> None:
        if self.status != status:
            self.status = status
            self.run_method("chooseStatus", status)

    def select(self, active: bool, uids: set[str]) -> None:
        """Select mode on or off, and which cards are ticked."""
        if (self.selecting, self.selected) != (active, uids):
            self.selecting, self.selected = active, set(uids)
            self.run_method("select", active, sorted(uids))

    def _displayed_contents(self, *, only_visible: bool) -> list[Any]:
        """Every card's texts (what `user.should_see` matches); only those the search shows if asked."""
        cards = [card for card in self.cards.values() if not only_visible or self.search.shows(card.state)]
        return [*super()._displayed_contents(only_visible=only_visible),
                *(text for card in cards for text in card.texts())]

    def _act(self, event: GenericEventArguments) -> Awaitable[None] | None:
        uid, action = event.args
        card = self.cards.get(str(uid))
        return None if card is None else card.act(str(action), self.actions)
