"""The Discover page: GGUF files in the model folders that no configuration uses yet, one tap to add."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from nicegui import background_tasks, ui

from discovery import FoundModel
from protocol.units import format_bytes
from ui.components.model_form import ModelFormDialog
from ui.components.model_info import metadata_table
from ui.components.on_first_use import OnFirstUse
from ui.page import page
from ui.services import Services
from ui.theme import frame


def found_card(found: FoundModel, on_add: Callable[[FoundModel], None] | None) -> None:
    info = found.info
    with ui.card().classes("w-full gap-2").mark(f"found-{Path(found.path).name}"):
        ui.label(info.name or Path(found.path).stem).classes("text-lg font-bold break-all")
        ui.label(found.path).classes("text-xs opacity-70 break-all")
        with ui.expansion("Metadata").classes("w-full text-sm"):
            metadata_table(info)
        if on_add is not None:
            ui.button("Add", icon="add", on_click=lambda: on_add(found)).classes("min-h-[44px] self-end").mark(
                f"add-{Path(found.path).name}")


def register(services: Services) -> None:
    deck, catalog, allowed_dirs = services.deck, services.catalog, services.settings.allowed_model_dirs

    @page("/discover")
    def discover_page() -> None:
        def scan() -> None:
            background_tasks.create(deck.scan(), name="model folder scan")

        @ui.refreshable
        def listing() -> None:
            if catalog.result is None:
                ui.label("Scanning the model folders…").classes("opacity-70")
                return
            unused = deck.unconfigured()
            if not unused:
                ui.label("Every model in the folders is configured.").mark("all-configured")
            with ui.grid().classes("w-full gap-4 grid-cols-1 sm:grid-cols-2 lg:grid-cols-3"):
                for found in unused:
                    found_card(found, add)
            if catalog.result.projectors:
                ui.label("Projectors (mmproj)").classes("text-lg font-bold")
                for projector in catalog.result.projectors:
                    ui.label(f"{projector.path} · {format_bytes(projector.info.file_size)}").classes(
                        "text-sm break-all")
            if catalog.result.refused:
                with ui.expansion(f"{len(catalog.result.refused)} files refused").classes("w-full").mark("refused"):
                    for refused in catalog.result.refused:
                        ui.label(f"{refused.path}: {refused.reason}").classes("text-sm break-all")

        with frame("Discover", services) as who:
            form = OnFirstUse(lambda: ModelFormDialog(services))
            add = (lambda found: form().open_new(deck.suggestion(found))) if who.is_admin else None
            with ui.row().classes("w-full items-center justify-between"):
                ui.label("Discover").classes("text-2xl font-bold")
                ui.button("Scan again", icon="refresh", on_click=scan).classes("min-h-[44px]").mark(
                    "scan").bind_enabled_from(catalog.progress, "running", lambda running: not running)
            ui.label(f"Folders: {', '.join(str(d) for d in allowed_dirs)}").classes("text-sm opacity-70 break-all")
            ui.linear_progress(show_value=False).bind_value_from(
                catalog.progress, "done", lambda _: catalog.progress.fraction).bind_visibility_from(
                catalog.progress, "running")
            ui.label().classes("text-sm").bind_text_from(catalog.progress, "summary").mark("scan-summary")
            listing()
        catalog.scanned.subscribe(listing.refresh)
        deck.added.subscribe(listing.refresh)
        deck.removed.subscribe(listing.refresh)
        if catalog.result is None:
            scan()
