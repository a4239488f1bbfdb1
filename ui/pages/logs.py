"""The logs page: a live tail of every model's output (or one model's: /logs?model=<uid>), filtered
by model, level and text, with pause, and a download of every stored line that matches.

Lines from the store are gathered as they arrive and drawn by a timer a few times a second, in one
chunk per draw and at most SCREEN_LINES on screen, so a server printing thousands of lines a second
cannot flood a browser or hold the event loop.
"""

from __future__ import annotations

from collections import deque

from nicegui import ui

from protocol.messages import LogLine
from store.log_filter import LEVELS, LogFilter, kept_lines, line_text
from store.log_history import every_line
from ui.components.log_tail import LogTail
from ui.page import page
from ui.services import Services
from ui.theme import frame

SCREEN_LINES = 500
DRAW_EVERY_S = 0.3


def register(services: Services) -> None:
    deck = services.deck

    @page("/logs")
    def logs_page(model: str | None = None) -> None:
        waiting: deque[tuple[str, LogLine]] = deque(maxlen=SCREEN_LINES)  # arrived, not drawn yet
        wanted = LogFilter(uid=model if model in deck.models else None)

        def name_of(uid: str) -> str:
            state = deck.models.get(uid)
            return state.name if state is not None else uid[:8]

        def texts(lines: list[tuple[str, LogLine]]) -> list[str]:
            return [line_text(name_of(uid), line) for uid, line in lines]

        async def download() -> None:
            lines = texts(await every_line(deck, wanted))
            ui.download.content("".join(f"{line}\n" for line in lines).encode(), "modeldeck-logs.txt", "text/plain")

        with frame("Logs", services):
            ui.label("Logs").classes("text-2xl font-bold")
            with ui.grid().classes("w-full gap-2 grid-cols-1 sm:grid-cols-2 lg:grid-cols-3"):
                model_choice = ui.select({"": "All models", **{s.uid: s.name for s in deck.in_order()}},
                                         value=wanted.uid or "", label="Model").mark("log-model")
                level_choice = ui.select({"": "All levels", **LEVELS}, value="", label="Level").mark("log-level")
                text_choice = ui.input("Contains").props("clearable").mark("log-text")
            with ui.row().classes("w-full items-center gap-4"):
                paused = ui.switch("Pause").mark("log-pause")
                ui.button("Download", icon="download", on_click=download).classes("min-h-[44px]").mark(
                    "log-download")
            view = LogTail(SCREEN_LINES).classes("h-[60vh]").mark("log-view")

        def redraw() -> None:
            """A new filter: the kept lines that match it, newest last."""
            nonlocal wanted
            wanted = LogFilter(uid=model_choice.value or None, level=level_choice.value or None,
                               text=text_choice.value or "")
            waiting.clear()
            view.replace(texts(kept_lines(deck.logs, wanted, last=SCREEN_LINES)))

        def arrived(uid: str, lines: list[LogLine]) -> None:
            if wanted.uid in (None, uid):
                waiting.extend(wanted.select(uid, lines))

        def draw() -> None:
            if paused.value or not waiting:
                return
            batch = texts(list(waiting))
            waiting.clear()
            view.append(batch)

        for choice in (model_choice, level_choice, text_choice):
            choice.on_value_change(redraw)
        redraw()
        ui.timer(DRAW_EVERY_S, draw)
        deck.log_lines.subscribe(arrived)
