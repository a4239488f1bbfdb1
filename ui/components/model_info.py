"""The card's info view: what the model file says about itself (GGUF metadata) and the fit estimate."""

from __future__ import annotations

from nicegui import ui

from discovery import GgufInfo
from protocol.units import format_bytes
from store.model_state import ModelState


def metadata_rows(info: GgufInfo) -> list[tuple[str, str]]:
    """The facts a person picks a model by, in reading order; unknown values are left out."""
    facts: list[tuple[str, object]] = [
        ("Name", info.name), ("Architecture", info.architecture), ("Parameters", _count(info.parameter_count)),
        ("File type", info.file_type), ("File size", format_bytes(info.file_size)),
        ("Trained context", info.context_length), ("Layers", info.block_count), ("Heads", info.head_count),
        ("KV heads", info.head_count_kv), ("Embedding", info.embedding_length), ("Vocabulary", info.vocab_size),
        ("Chat template", "yes" if info.has_chat_template else "no"),
        ("Split", f"{info.split_count} parts" if info.is_split else None),
        ("Projector (mmproj)", "yes" if info.is_mmproj else None),
    ]
    return [(label, str(value)) for label, value in facts if value not in (None, "")]


def _count(value: int | None) -> str | None:
    if value is None:
        return None
    for unit, size in (("B", 1e9), ("M", 1e6), ("K", 1e3)):
        if value >= size:
            return f"{value / size:.1f}{unit}"
    return str(value)


def metadata_table(info: GgufInfo) -> None:
    with ui.grid(columns="auto 1fr").classes("w-full gap-x-4 gap-y-1 text-sm"):
        for label, value in metadata_rows(info):
            ui.label(label).classes("opacity-70")
            ui.label(value).classes("break-all")


class ModelInfoDialog(ui.dialog):
    def __init__(self) -> None:
        super().__init__()
        with self, ui.card().classes("w-full max-w-lg"):
            self.title = ui.label().classes("text-lg font-bold")
            self.body = ui.column().classes("w-full gap-2")
            ui.button("Close", on_click=self.close).props("flat").classes("self-end min-h-[44px]")

    def show(self, state: ModelState) -> None:
        self.title.text = state.name
        self.body.clear()
        with self.body:
            ui.label(state.config.model_path).classes("text-xs break-all opacity-70")
            if state.info is None:
                ui.label("The file's metadata has not been read (missing, unreadable or outside the model folders).")
            else:
                metadata_table(state.info)
            if state.fit is not None:
                ui.label(("Fits: " if state.fit.fits else "May not fit: ") + state.fit.summary).classes(
                    "text-sm" + ("" if state.fit.fits else " text-negative"))
        self.open()
