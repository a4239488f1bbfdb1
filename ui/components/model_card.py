"""One model as a card, built for a thumb: its name and status at a glance, the live speed, one button that
starts or stops it, a menu for the rest, and its details a tap away.

The card is no NiceGUI element: the page's grid (ui/components/model_grid.py) holds every card's face
(ui/components/card_face.py) as data and the browser renders each card from it (model_card.js). A page of 1,000
cards is a handful of elements, not 1,000 or 15,000 (docs/architecture.md, "The models page").
"""

from __future__ import annotations

from collections.abc import Awaitable
from dataclasses import asdict, dataclass
from typing import Any, Protocol

from nicegui import ui

from store.model_state import ModelState
from ui.components.card_face import CardFace, Face


class CardActions(Protocol):
    async def start(self, state: ModelState) -> None: ...
    async def stop(self, state: ModelState) -> None: ...
    async def restart(self, state: ModelState) -> None: ...
    def edit(self, state: ModelState) -> None: ...
    async def duplicate(self, state: ModelState) -> None: ...
    def delete(self, state: ModelState) -> None: ...
    def details(self, state: ModelState) -> None: ...
    async def crashes(self, state: ModelState) -> None: ...
    def info(self, state: ModelState) -> None: ...
    async def history(self, state: ModelState) -> None: ...


@dataclass(frozen=True)
class MenuEntry:
    """One item of the card's menu. Its `action` names the `CardActions` method (or "logs") a tap calls."""

    action: str
    label: str
    changes: bool = False  # changes the model: admins only
    when: str | None = None  # shown only while this key of the face is true
    danger: bool = False
    separated: bool = False  # a line above it


MENU = (
    MenuEntry("restart", "Restart", changes=True, when="can_restart"),
    MenuEntry("edit", "Edit", changes=True),
    MenuEntry("duplicate", "Duplicate", changes=True),
    MenuEntry("info", "Info"),
    MenuEntry("details", "Error details", when="has_exit_code"),
    MenuEntry("crashes", "Crashes"),
    MenuEntry("history", "History"),
    MenuEntry("logs", "Logs"),
    MenuEntry("delete", "Delete", changes=True, danger=True, separated=True),
)
PRIMARY = ("start", "stop")  # the card's one button: Start or Stop, by the model's status


def menu_for(*, read_only: bool) -> list[dict[str, Any]]:
    """The menu's entries as the browser renders them (the grid hands them to its cards: one copy a page)."""
    return [asdict(entry) for entry in MENU if not (read_only and entry.changes)]


def _shown(face: Face) -> list[str]:
    """The texts a person sees on the card (what `user.should_see` matches)."""
    keys = ("name", "status", "speed", "family", "file", "settings", "memory", "placement", "fit", "unknown",
            "problem", "blocked", "pending", "waiting", "traffic", "unload")
    return [face[key] for key in keys]


class ModelCard:
    """One card of a page's grid as the server sees it: its model, its face, and what a tap on it may do. The browser
    renders it from the face (model_card.js, inside the grid); it is no NiceGUI element, so a page holds the same
    few elements whatever the number of cards. `read_only` (a viewer): no Start, Stop, Edit, Duplicate or Delete;
    the store refuses them anyway."""

    def __init__(self, state: ModelState, face: CardFace, *, read_only: bool) -> None:
        self.state = state
        self._face = face
        self.read_only = read_only

    @property
    def face(self) -> Face:
        return self._face.data

    @property
    def sent(self) -> Face:
        """The face as the browser gets it."""
        return self._face.sent

    def texts(self) -> list[str]:
        """The texts a person sees on the card, its button's word included (what `user.should_see` matches)."""
        face = self.face
        button = [] if self.read_only else ["Start" if face["can_start"] else "Stop"]
        return [*_shown(face), *button]

    def offers(self) -> list[str]:
        """The actions a person can tap on this card now: its button (Start or Stop, admins only), then the menu's
        items (a viewer's menu has none that change the model; Error details only after an exit)."""
        face = self.face
        button = [action for action in PRIMARY if face[f"can_{action}"]] if not self.read_only else []
        return button + [entry.action for entry in MENU if not (self.read_only and entry.changes) and (
            entry.when is None or face[entry.when])]

    def act(self, action: str, actions: CardActions) -> Awaitable[None] | None:
        """Sync actions (Edit opens the form) happen before the event returns; async ones run as a task."""
        if action not in self.offers():
            return None  # a tap on what the card no longer offers (the status changed meanwhile), or a forged event
        if action == "logs":
            ui.navigate.to(f"/logs?model={self.state.uid}")
            return None
        done: Awaitable[None] | None = getattr(actions, action)(self.state)
        return done
