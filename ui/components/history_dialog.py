"""A model's history: every version of its configuration, newest first, each as a readable diff, and
"Restore this version" (a new version with that one's settings; for a running model whose start it would
change, the question "restart with it?")."""

from __future__ import annotations

from collections.abc import Callable

from nicegui import ui

from protocol.config import field_label, shown_value
from store import ModelDeck, StoreError
from store.actor import Actor
from store.errors import RestartNeeded
from store.model_state import ModelState
from store.versions import Version
from ui.components.confirm_dialog import ConfirmDialog


def version_diff(version: Version) -> None:
    """What changed in this version, one line per field: old value struck through, then the new one."""
    if not version.changes:
        ui.label("Created with these settings." if version.number == 1 or version.action == "create"
                 else "No settings changed.").classes("text-sm opacity-70")
        return
    with ui.grid(columns="auto 1fr").classes("w-full gap-x-3 gap-y-1 text-sm"):
        for name, (old, new) in version.changes.items():
            ui.label(field_label(name)).classes("opacity-70")
            with ui.column().classes("gap-0 min-w-0"):
                ui.label(shown_value(old)).classes("line-through opacity-60 break-all")
                ui.label(shown_value(new)).classes("break-all font-medium")


class HistoryDialog(ui.dialog):
    """One per page (built when first asked); `show` fills it for one model."""

    def __init__(self, deck: ModelDeck, actor: Callable[[], Actor], confirm: ConfirmDialog, *, read_only: bool) -> None:
        super().__init__()
        self.deck = deck
        self.actor = actor
        self.read_only = read_only
        self.confirm = confirm  # the page's one yes/no dialog
        self.state: ModelState | None = None
        with self, ui.card().classes("w-full max-w-2xl"):
            self.title = ui.label().classes("text-lg font-bold")
            self.entries = ui.column().classes("w-full gap-3 max-h-[70vh] overflow-auto").mark("history")
            ui.button("Close", on_click=self.close).props("flat").classes("self-end min-h-[44px]")

    async def show(self, state: ModelState) -> None:
        self.state = state
        self.title.text = f"{state.name}: history"
        await self._fill()
        self.open()

    async def _fill(self) -> None:
        assert self.state is not None
        uid = self.state.uid
        try:
            history = await self.deck.history(uid)
        except StoreError as exc:
            ui.notify(str(exc), type="negative")
            return
        self.entries.clear()
        with self.entries:
            if not history:
                ui.label("No versions recorded yet: the next change starts the history.")
            for index, version in enumerate(history):
                with ui.card().props("flat bordered").classes("w-full gap-1").mark(f"version-{version.number}"):
                    with ui.row().classes("w-full items-center justify-between gap-2"):
                        with ui.column().classes("gap-0 min-w-0"):
                            ui.label(f"Version {version.number} · {version.summary()}").classes(
                                "font-bold break-words")
                            ui.label(f"{version.at.astimezone():%Y-%m-%d %H:%M:%S}").classes("text-sm opacity-70")
                        if index > 0 and not self.read_only:
                            ui.button("Restore this version", icon="history",
                                      on_click=lambda number=version.number: self._restore(number)).props(
                                "flat").classes("min-h-[44px]").mark(f"restore-{version.number}")
                    version_diff(version)

    async def _restore(self, number: int, *, restart: bool = False) -> None:
        assert self.state is not None
        state = self.state
        try:
            await self.deck.restore(state.uid, number, actor=self.actor(), restart=restart)
        except RestartNeeded as exc:
            self.confirm.ask(f"{exc}. Restart {state.name} with version {number}?", "Restart with it",
                             lambda: self._restore(number, restart=True))
            return
        except StoreError as exc:
            ui.notify(str(exc), type="negative", multi_line=True)
            return
        ui.notify(f"Restored version {number} of {state.name}" + (", restarting it" if restart else ""),
                  type="positive")
        await self._fill()
