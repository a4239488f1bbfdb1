"""The models page: a card per configured model, Add, and the dialogs the cards share."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path

from nicegui import ui

from discovery import ScanResult
from protocol.link import LinkState
from store import ModelState, StoreError
from store.deck import MayNotFit
from ui.components.card_face import CardFaces
from ui.components.confirm_dialog import ConfirmDialog
from ui.components.crash_dialog import CrashDialog
from ui.components.error_details import ErrorDetailsDialog
from ui.components.history_dialog import HistoryDialog
from ui.components.import_dialog import ImportDialog
from ui.components.model_form import ModelFormDialog
from ui.components.model_grid import ModelGrid, ModelSearch
from ui.components.model_info import ModelInfoDialog
from ui.components.on_first_use import OnFirstUse
from ui.components.selection import SelectMode, download_export
from ui.page import page
from ui.services import Services
from ui.theme import TOUCH, frame


class PageActions:
    """What the cards' buttons do on this page; every failure becomes a notification, never a freeze."""

    def __init__(self, services: Services, *, read_only: bool) -> None:
        """Built inside the page: its dialogs are shared by its cards, each built the first time it is needed
        (the yes/no dialog, small and asked by select mode too, with the page)."""
        self.deck = services.deck
        self.actor = services.actor  # asked at each action (inside _attempt): a session that ended cannot act
        self.confirm = ConfirmDialog()
        self.form = OnFirstUse(lambda: ModelFormDialog(services))
        self.crash_dialog = OnFirstUse(CrashDialog)
        self.details_dialog = OnFirstUse(ErrorDetailsDialog)
        self.info_dialog = OnFirstUse(ModelInfoDialog)
        self.history_dialog = OnFirstUse(lambda: HistoryDialog(self.deck, self.actor, self.confirm,
                                                               read_only=read_only))
        self.importer = OnFirstUse(lambda: ImportDialog(self.deck, self.actor))

    @staticmethod
    async def _attempt(action: Callable[[], Awaitable[object]], done: str | None = None) -> None:
        try:
            await action()
        except StoreError as exc:
            ui.notify(str(exc), type="negative", multi_line=True)
        else:
            if done:
                ui.notify(done, type="positive")

    async def start(self, state: ModelState) -> None:
        """Start; when the store says the model may not fit in the memory free now, ask the person first."""
        async def start_or_ask() -> None:
            try:
                await self.deck.start(state.uid, actor=self.actor())
            except MayNotFit as doubt:
                self.confirm.ask(f"{doubt}. Start it anyway?", "Start anyway", lambda: self._attempt(
                    lambda: self.deck.start(state.uid, actor=self.actor(), anyway=True)))

        await self._attempt(start_or_ask)

    async def stop(self, state: ModelState) -> None:
        await self._attempt(lambda: self.deck.stop(state.uid, actor=self.actor()))

    async def restart(self, state: ModelState) -> None:
        await self._attempt(lambda: self.deck.restart(state.uid, actor=self.actor()), f"Restarting {state.name}")

    def edit(self, state: ModelState) -> None:
        self.form().open_edit(state.config)

    async def duplicate(self, state: ModelState) -> None:
        await self._attempt(lambda: self.deck.duplicate(state.uid, actor=self.actor()), f"Duplicated {state.name}")

    def delete(self, state: ModelState) -> None:
        """Asks first; a running model is offered "Stop and delete" (the deck stops it, then deletes it)."""
        running = state.status.is_active
        question = (f"{state.name} is {state.status}. Stop it and delete its configuration? The model file stays."
                    if running else f"Delete {state.name}? Its configuration is removed; the model file stays.")
        self.confirm.ask(question, "Stop and delete" if running else "Delete", lambda: self._attempt(
            lambda: self.deck.delete(state.uid, actor=self.actor(), stop=running), f"Deleted {state.name}"))

    def details(self, state: ModelState) -> None:
        self.details_dialog().show(state)

    async def crashes(self, state: ModelState) -> None:
        await self.crash_dialog().show(state)

    def info(self, state: ModelState) -> None:
        self.info_dialog().show(state)

    async def history(self, state: ModelState) -> None:
        await self.history_dialog().show(state)

    def add(self) -> None:
        self.form().open_new()

    def import_file(self) -> None:
        self.importer().open_empty()

    def export_all(self) -> None:
        download_export(self.deck.in_order())


def files_menu(actions: PageActions, read_only: bool) -> None:
    """Export and import configurations, and (admins) a backup of the whole database."""
    with ui.button(icon="import_export").props('flat round aria-label="Import and export"').classes(
            "min-h-[44px] min-w-[44px]").mark("files-menu"), ui.menu():
        ui.menu_item("Export all configurations", on_click=actions.export_all).mark("export-all")
        if not read_only:
            ui.menu_item("Import configurations…", on_click=actions.import_file).mark("import")
            ui.menu_item("Download a database backup", on_click=lambda: ui.download.from_url("/api/backup")).mark(
                "backup")


def empty_deck(found: ScanResult | None, allowed_dirs: Sequence[Path]) -> None:
    """What to do first: Discover when the folders hold models (the catalog's last scan says how many), else
    where to put one."""
    models = len(found.models) if found is not None else 0
    with ui.column().classes("w-full items-center text-center gap-2 py-12").mark("empty-state"):
        ui.icon("inventory_2", size="3rem").classes("opacity-60")
        ui.label("No models yet").classes("text-xl font-bold")
        if models:
            ui.label(f"The model folders hold {'1 GGUF model' if models == 1 else f'{models} GGUF models'}. "
                     "Discover shows what each one is and adds it in one tap.")
            ui.link("Open Discover", "/discover").classes(
                f"{TOUCH} px-4 flex items-center justify-center font-bold").mark("to-discover")
        else:
            ui.label(f"Put a .gguf file in {', '.join(str(d) for d in allowed_dirs)}: it shows up in Discover by "
                     "itself. Or press Add model to configure one by hand.")


FIRST_SCREEN = 24  # cards in the page as it loads: a phone shows about 9, a desktop 12, a tall tablet 20


class DeckView:
    """This page's grid, kept in step with the deck: a card added or removed alone (re-rendering a deck of 200
    cards for one would be wasted), a changed face sent to its card, the empty state when there are none.

    The page loads with the first screen of cards; the rest follow in one message as soon as the browser is
    connected, so the cards a person sees first do not wait for the ones far below (docs/architecture.md, "The
    models page"). The cards built are always the first ones in the deck's order: the rest are the next."""

    def __init__(self, services: Services, faces: CardFaces, actions: PageActions, search: ModelSearch,
                 select: SelectMode, *, read_only: bool) -> None:
        self.services, self.faces, self.actions, self.search, self.select = services, faces, actions, search, select
        self.read_only = read_only
        self.grid: ModelGrid | None = None
        self.render = ui.refreshable(self._render)
        self.render()
        services.deck.added.subscribe(self.added)
        services.deck.removed.subscribe(self.removed)
        services.catalog.scanned.subscribe(self.scanned)
        faces.changed.subscribe(self.changed)
        faces.statuses.subscribe(search.status_changed)

    def _render(self) -> None:
        self.grid = None
        states = self.services.deck.in_order()
        if not states:
            empty_deck(self.services.catalog.result, self.services.settings.allowed_model_dirs)
        else:
            self.grid = ModelGrid(self.faces, self.actions, self.search, states[:FIRST_SCREEN], self.select.pick,
                                  read_only=self.read_only)
            if len(states) > FIRST_SCREEN:
                # a page's timer first fires once it is connected; the pause lets the handshake (and a first tap)
                # through before the browser spends its time mounting the rest
                ui.timer(0.1, self._build_rest, once=True)
        self.search.follow(self.grid, len(states))
        self.select.follow(self.grid)

    def _build_rest(self) -> None:
        grid = self.grid
        if grid is not None and not grid.is_deleted:
            grid.add([state for state in self.services.deck.in_order() if state.uid not in grid.cards])

    def _index(self, uid: str) -> int:
        return [state.uid for state in self.services.deck.in_order()].index(uid)

    def scanned(self) -> None:
        if self.grid is None:  # the empty state counts the files the catalog knows
            self.render.refresh()

    def changed(self, uid: str) -> None:
        if self.grid is not None and not self.grid.is_deleted:
            self.grid.changed(uid)

    def added(self, state: ModelState) -> None:
        if self.grid is None:
            self.render.refresh()
            return
        index = self._index(state.uid)
        if index <= len(self.grid.cards):  # among the cards built (the rest: the next batch builds it)
            self.grid.add([state], index)
        self.search.follow(self.grid, len(self.services.deck.in_order()))

    def removed(self, uid: str) -> None:
        if self.grid is None or not self.services.deck.in_order():
            self.render.refresh()
            return
        self.grid.drop(uid)
        self.search.follow(self.grid, len(self.services.deck.in_order()))


def register(services: Services) -> None:
    deck = services.deck
    faces = CardFaces()  # what each card shows, computed once for every open page
    deck.removed.subscribe(faces.forget)

    @page("/")
    def models_page() -> None:
        with frame("Models", services) as who:
            read_only = not who.is_admin
            actions = PageActions(services, read_only=read_only)
            with ui.row().classes("w-full items-center justify-between gap-2"):
                ui.label("Models").classes("text-2xl font-bold")
                with ui.row().classes("items-center gap-2"):
                    select_button = ui.row().classes("items-center")
                    files_menu(actions, read_only)
                    if not read_only:
                        ui.button("Add model", icon="add", on_click=actions.add).classes(
                            "min-h-[44px]").mark("add-model")
            ui.label().classes("text-sm text-warning").bind_text_from(deck.link, "state", lambda s: "" if (
                s is LinkState.CONNECTED) else f"The runner is {s}: models cannot start."
            ).bind_visibility_from(deck.link, "state", lambda s: s is not LinkState.CONNECTED)
            search = ModelSearch(deck.in_order)
            select = SelectMode(deck, services.actor, search.shown, actions.confirm, read_only=read_only)
            with select_button:
                select.toggle_button()
            DeckView(services, faces, actions, search, select, read_only=read_only)
            select.bar()
