"""The form's model file: picked from the files the catalog knows in the allowed folders, the list narrowing as
the person types, or a path typed by hand.

A bare file name (`tiny.gguf`) that the catalog knows in exactly one folder means that file: the field says which
under it, and that path is what Save stores; in more than one folder, Save asks the person to choose.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from nicegui import ui

from discovery import FoundModel
from store.catalog import ModelCatalog

LISTED = 6  # choices shown at once; typing narrows the rest


class ModelFileField:
    def __init__(self, catalog: ModelCatalog, on_file: Callable[[FoundModel], None]) -> None:
        """`on_file`: called when the field comes to name a file the catalog knows (tapped, typed or resolved)."""
        self.catalog = catalog
        self.on_file = on_file
        self.known: FoundModel | None = None  # the catalog's file the field names now, if it names one
        with ui.column().classes("w-full gap-0 sm:col-span-2"):
            self.input = ui.input("Model file (.gguf)", on_change=self._typed).classes("w-full").props(
                'autocomplete=off spellcheck=false')
            self.choices = ui.list().props("dense separator").classes("w-full").mark("model-file-choices")
        catalog.scanned.subscribe(self._typed)  # inside the page: a file copied in shows up while the form is open

    def reset(self) -> None:
        """Follow the value the form just filled in, without calling `on_file` (the form chose its values)."""
        self.known = self._resolved(str(self.input.value or "").strip())
        self._show()

    def path(self) -> str:
        """What Save stores: the known file's path when the field names one, else the text as typed."""
        return self.known.path if self.known is not None else str(self.input.value or "").strip()

    def problem(self) -> str | None:
        """A bare name the catalog knows in several folders: which one is meant is the person's to say."""
        text = str(self.input.value or "").strip()
        found = self.catalog.named(text) if text and "/" not in text else []
        if len(found) > 1:
            return f"{text} is in {len(found)} model folders: choose one from the list"
        return None

    def _resolved(self, text: str) -> FoundModel | None:
        """The catalog's file this text names: its full path, or a bare name it knows in one folder only."""
        if not text:
            return None
        named = self.catalog.named(text) if "/" not in text else [
            found for found in self.catalog.files() if found.path == text]
        return named[0] if len(named) == 1 else None

    def _typed(self) -> None:
        before, self.known = self.known, self._resolved(str(self.input.value or "").strip())
        self._show()
        if self.known is not None and self.known != before:
            self.on_file(self.known)

    def _pick(self, found: FoundModel) -> None:
        self.input.value = found.path  # _typed follows

    def _show(self) -> None:
        """The hint says which file a bare name means; the list offers the known files that match the words typed
        (none once the field names one exactly)."""
        text = str(self.input.value or "").strip()
        known = self.known
        bare = known is not None and known.path != text
        self.input.props.set_optional("hint", f"Means the file {known.path}" if known is not None and bare else None)
        words = text.lower().split()
        matching = [] if known is not None and known.path == text else [
            found for found in self.catalog.files() if all(word in found.path.lower() for word in words)]
        self.choices.clear()
        with self.choices:
            for found in matching[:LISTED]:
                path = Path(found.path)
                with ui.item(on_click=lambda found=found: self._pick(found)).classes("min-h-[48px]").mark(
                        f"file-choice-{path.name}"):
                    with ui.item_section():
                        ui.item_label(path.name).classes("break-all")
                        ui.item_label(str(path.parent)).props("caption").classes("break-all")
            if len(matching) > LISTED:
                ui.item_label(f"{len(matching) - LISTED} more: type part of the name to narrow the list").props(
                    "caption").classes("px-4 py-1")
        self.choices.visible = bool(matching)
