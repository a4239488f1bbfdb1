"""A model's crash timeline: when, exit code, reason and the last lines, newest first."""

from __future__ import annotations

from nicegui import ui

from store.crashes import crash_timeline
from store.model_state import ModelState


class CrashDialog(ui.dialog):
    """One per page (built when first asked); `show` fills it for one model."""

    def __init__(self) -> None:
        super().__init__()
        with self, ui.card().classes("w-full max-w-2xl"):
            self.title = ui.label().classes("text-lg font-bold")
            self.entries = ui.timeline(side="right").classes("w-full max-h-[70vh] overflow-auto").mark(
                "crash-timeline")
            ui.button("Close", on_click=self.close).props("flat").classes("self-end")

    async def show(self, state: ModelState) -> None:
        crashes = await crash_timeline(state.uid)
        self.title.text = f"{state.name}: crashes"
        self.entries.clear()
        with self.entries:
            if not crashes:
                ui.label("No crashes recorded.")
            for crash in crashes:
                with ui.timeline_entry(subtitle=f"{crash.at.astimezone():%Y-%m-%d %H:%M:%S}", color="negative"):
                    ui.label(f"exit code {crash.exit_code}").classes("font-bold")
                    ui.label(crash.reason or "No reason was given.").classes("break-words")
                    if crash.last_lines:
                        with ui.expansion("Last lines").classes("w-full"):
                            ui.code("\n".join(crash.last_lines), language="text").classes(
                                "w-full max-h-64 overflow-auto text-xs")
        self.open()
