"""The error detail of a model: exit code, reason and the last lines of its log."""

from __future__ import annotations

from nicegui import ui

from store.model_state import ModelState


class ErrorDetailsDialog(ui.dialog):
    def __init__(self) -> None:
        super().__init__()
        with self, ui.card().classes("w-full max-w-2xl"):
            self.title = ui.label().classes("text-lg font-bold")
            self.summary = ui.label()
            self.lines = ui.code("", language="text").classes("w-full max-h-96 overflow-auto text-xs")
            ui.button("Close", on_click=self.close).props("flat").classes("self-end")

    def show(self, state: ModelState) -> None:
        self.title.text = f"{state.name}: {state.status}"
        code = "none" if state.exit_code is None else str(state.exit_code)
        self.summary.text = f"Exit code {code}. {state.reason or 'No reason was given.'}"
        self.lines.content = "\n".join(state.last_lines) or "(no log lines)"
        self.open()
