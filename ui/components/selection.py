"""Select mode on the models page: pick cards (or every card shown), then Start, Stop, Delete or Export them
with one confirmation and a result per model.

It hooks into the page's grid (`follow`: the grid shows a box on each card in select mode and says when one is
ticked, `pick`) and into the page through `shown` (the cards the page shows now, which a search or a status
filter narrows), so the grid and the page can change around it. The bar sits at the bottom of the screen, where
a thumb reaches.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from nicegui import binding, ui

from store import ModelDeck, ModelState
from store.actor import Actor
from store.deck import BulkResult
from store.exporting import export_json
from ui.components.confirm_dialog import ConfirmDialog
from ui.components.model_grid import ModelGrid

TOUCH = "min-h-[48px] min-w-[48px]"


@binding.bindable_dataclass
class Selection:
    """Which models are picked; bindable, so the bar follows it."""

    active: bool = False
    count: int = 0

    def __post_init__(self) -> None:
        self.uids: set[str] = set()

    def set(self, uids: set[str]) -> None:
        self.uids = uids
        self.count = len(uids)


class ResultsDialog(ui.dialog):
    """What a bulk action did, model by model."""

    def __init__(self) -> None:
        super().__init__()
        with self, ui.card().classes("w-full max-w-lg"):
            self.title = ui.label().classes("text-lg font-bold")
            self.rows = ui.column().classes("w-full gap-1 max-h-[60vh] overflow-auto").mark("bulk-results")
            ui.button("Close", on_click=self.close).props("flat").classes("self-end min-h-[44px]")

    def show(self, title: str, results: list[BulkResult]) -> None:
        done = sum(result.done for result in results)
        self.title.text = f"{title}: {done} of {len(results)} done"
        self.rows.clear()
        with self.rows:
            for result in results:
                with ui.row().classes("w-full items-start gap-2 no-wrap").mark(f"result-{result.uid}"):
                    ui.icon("check_circle" if result.done else "error",
                            color="positive" if result.done else "negative")
                    ui.label(f"{result.name}: {result.message}").classes("break-words")
        self.open()


class SelectMode:
    """The Select button, the boxes on the cards, and the bar of actions; one per page."""

    def __init__(self, deck: ModelDeck, actor: Callable[[], Actor], shown: Callable[[], list[ModelState]],
                 confirm: ConfirmDialog, *, read_only: bool) -> None:
        self.deck = deck
        self.actor = actor
        self.shown = shown
        self.read_only = read_only
        self.selection = Selection()
        self.grid: ModelGrid | None = None
        self.confirm = confirm  # the page's one yes/no dialog
        self.results = ResultsDialog()
        deck.removed.subscribe(self._forget)

    # ---- the hook into the grid ----------------------------------------------------------------

    def follow(self, grid: ModelGrid | None) -> None:
        """The page (re)built its grid: its cards show a box in select mode."""
        self.grid = grid
        self._show()

    def pick(self, uid: str, on: bool) -> None:
        """A card's box ticked (`on`) or cleared."""
        self.selection.set(self.selection.uids | {uid} if on else self.selection.uids - {uid})
        self._show()

    def _show(self) -> None:
        if self.grid is not None and not self.grid.is_deleted:
            self.grid.select(self.selection.active, self.selection.uids)

    # ---- the page's controls ---------------------------------------------------------------------

    def toggle_button(self) -> None:
        ui.button("Select", icon="checklist", on_click=self.start).props("outline").classes(
            "min-h-[44px]").bind_visibility_from(self.selection, "active", lambda on: not on).mark("select-mode")

    def bar(self) -> None:
        """The actions on the selection, at the bottom of the screen (room below the last card, so the bar hides
        none of it)."""
        ui.element("div").classes("h-40").bind_visibility_from(self.selection, "active")
        with ui.page_sticky(position="bottom", y_offset=12).classes("z-10").bind_visibility_from(
                self.selection, "active"), ui.card().classes("gap-2 shadow-lg").mark("select-bar"):
            with ui.row().classes("items-center gap-2 no-wrap"):
                ui.label().bind_text_from(self.selection, "count", lambda n: f"{n} selected").classes(
                    "font-bold whitespace-nowrap").mark("selected-count")
                ui.button("All shown", on_click=self.pick_shown).props("flat").classes(TOUCH).mark("select-shown")
                ui.button("None", on_click=lambda: self._replace(set())).props("flat").classes(TOUCH).mark(
                    "select-none")
                ui.button(icon="close", on_click=self.stop).props('flat round aria-label="Leave select mode"').classes(
                    TOUCH).mark("select-done")
            with ui.row().classes("items-center gap-2"):
                if not self.read_only:
                    self._action("Start", "play_arrow", "positive", self._start)
                    self._action("Stop", "stop", "warning", self._stop)
                    self._action("Delete", "delete", "negative", self._delete)
                self._action("Export", "download", "primary", self._export)

    def _action(self, text: str, icon: str, color: str, handler: Callable[[], Awaitable[None] | None]) -> None:
        ui.button(text, icon=icon, color=color, on_click=handler).classes(TOUCH).bind_enabled_from(
            self.selection, "count", bool).mark(f"bulk-{text.lower()}")

    # ---- choosing ----------------------------------------------------------------------------------

    def start(self) -> None:
        self.selection.active = True
        self._show()

    def stop(self) -> None:
        self.selection.active = False
        self._replace(set())

    def pick_shown(self) -> None:
        self._replace(self.selection.uids | {state.uid for state in self.shown()})

    def _replace(self, uids: set[str]) -> None:
        self.selection.set(uids)
        self._show()

    def _forget(self, uid: str) -> None:
        if uid in self.selection.uids:
            self._replace(self.selection.uids - {uid})

    def _chosen(self) -> list[ModelState]:
        return [state for state in self.deck.in_order() if state.uid in self.selection.uids]

    # ---- acting ---------------------------------------------------------------------------------------

    def _ask(self, verb: str, action: Callable[[list[str]], Awaitable[list[BulkResult]]], warning: str = "") -> None:
        chosen = self._chosen()
        names = ", ".join(state.name for state in chosen[:5]) + (f" and {len(chosen) - 5} more" if len(chosen) > 5
                                                                  else "")
        count = f"{len(chosen)} model{'s' if len(chosen) != 1 else ''}"

        async def go() -> None:
            results = await action([state.uid for state in chosen])
            self.results.show(f"{verb} {count}", results)
            self._replace({result.uid for result in results if not result.done} & self.selection.uids)

        self.confirm.ask(f"{verb} {count} ({names})?{warning}", verb, go)

    def _start(self) -> None:
        self._ask("Start", lambda uids: self.deck.start_many(uids, actor=self.actor()))

    def _stop(self) -> None:
        self._ask("Stop", lambda uids: self.deck.stop_many(uids, actor=self.actor()))

    def _delete(self) -> None:
        self._ask("Delete", lambda uids: self.deck.delete_many(uids, actor=self.actor()),
                  " Their configurations are removed (the model files stay); running ones are refused.")

    def _export(self) -> None:
        download_export(self._chosen())


def download_export(states: list[ModelState]) -> None:
    """The browser downloads ModelDeck's JSON document of these configurations."""
    name, document = export_json(states)
    ui.download.content(document, name, "application/json")
