"""A yes/no dialog created once per page and reused (a dialog built inside a menu never shows)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from nicegui import ui


class ConfirmDialog(ui.dialog):
    def __init__(self) -> None:
        super().__init__()
        self._on_confirm: Callable[[], Awaitable[None]] | None = None
        with self, ui.card().classes("w-full max-w-sm"):
            self.message = ui.label().classes("text-base")
            with ui.row().classes("w-full justify-end gap-2"):
                ui.button("Cancel", on_click=self.close).props("flat").mark("confirm-cancel")
                self.confirm_button = ui.button("Delete", color="negative", on_click=self._confirm)
                self.confirm_button.mark("confirm-ok")

    def ask(self, message: str, action: str, on_confirm: Callable[[], Awaitable[None]]) -> None:
        self.message.text = message
        self.confirm_button.text = action
        self._on_confirm = on_confirm
        self.open()

    async def _confirm(self) -> None:
        self.close()
        if self._on_confirm is not None:
            await self._on_confirm()
