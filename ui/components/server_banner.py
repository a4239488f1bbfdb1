"""On every page while the runner has no llama-server yet: the build's progress, or why there is none and what to do."""

from __future__ import annotations

from nicegui import ui

from protocol.llama_server import BuildStage, ServerPhase
from protocol.messages import LlamaServerInfo
from protocol.units import format_duration
from store import StoreError
from store.llama_server import LlamaServer

STAGE_WORDS = {
    BuildStage.DOWNLOADING: "downloading the llama.cpp source",
    BuildStage.UNPACKING: "unpacking the source",
    BuildStage.CONFIGURING: "configuring",
    BuildStage.COMPILING: "compiling",
    BuildStage.INSTALLING: "installing",
}
HOW_TO_POINT = ("To use a llama-server you already have, start ModelDeck with --llama-server /path/to/llama-server "
                "(or set MODELDECK_LLAMA_SERVER, or put llama-server on PATH). Starting a model tries the build again.")
LINES_SHOWN = 200


def _shown(info: LlamaServerInfo | None) -> bool:
    return _building(info) or _failed(info)


def _building(info: LlamaServerInfo | None) -> bool:
    return info is not None and info.phase is ServerPhase.BUILDING


def _failed(info: LlamaServerInfo | None) -> bool:
    return info is not None and info.phase is ServerPhase.FAILED


def _fraction(info: LlamaServerInfo | None) -> float:
    return (info.build.percent or 0) / 100 if info is not None and info.build is not None else 0.0


def headline(info: LlamaServerInfo | None) -> str:
    if info is None:
        return ""
    if info.phase is ServerPhase.FAILED:
        return "llama-server is not available"
    return f"Building llama-server ({info.backend.value.upper()})"


def progress_line(info: LlamaServerInfo | None) -> str:
    """`compiling: step 56 of 208 (27 %) · 3 min 10 s elapsed · about 8 min 30 s left`."""
    build = info.build if info is not None else None
    if build is None:
        return ""
    what = STAGE_WORDS[build.stage]
    if build.step is not None and build.steps is not None:
        what += f": step {build.step} of {build.steps} ({build.percent:.0f} %)"
    elif build.percent is not None:
        what += f": {build.percent:.0f} %"
    if _failed(info):
        return f"stopped while {what}, after {format_duration(build.elapsed_s)}"
    parts = [what, f"{format_duration(build.elapsed_s)} elapsed"]
    if build.remaining_s is not None:
        parts.append(f"about {format_duration(build.remaining_s)} left")
    return " · ".join(parts)


def detail_line(info: LlamaServerInfo | None) -> str:
    if info is None:
        return ""
    if info.phase is ServerPhase.FAILED:
        return f"{info.reason or 'no reason was given'}. {HOW_TO_POINT}"
    return ("Models you start meanwhile wait and start as soon as it is done. Once built, it is kept for the next "
            "start.")


class BuildLinesDialog(ui.dialog):
    """The build's last lines, fetched from the runner each time it opens (and on Refresh)."""

    def __init__(self, server: LlamaServer) -> None:
        super().__init__()
        self.server = server
        with self, ui.card().classes("w-full max-w-3xl"):
            ui.label("The build's last lines").classes("text-lg font-bold")
            # A plain label, not ui.code: this dialog is built with every page, and a code block costs a Markdown
            # renderer each time.
            self.lines = ui.label().classes("w-full max-h-[60vh] overflow-auto font-mono text-xs whitespace-pre-wrap "
                                            "break-all").mark("build-lines")
            with ui.row().classes("self-end gap-2"):
                ui.button("Refresh", on_click=self.load).props("flat").classes("min-h-[44px]")
                ui.button("Close", on_click=self.close).props("flat").classes("min-h-[44px]")

    async def load(self) -> None:
        try:
            lines = await self.server.build_lines(LINES_SHOWN)
        except StoreError as exc:
            ui.notify(str(exc), type="negative")
            return
        self.lines.text = "\n".join(lines) or "(no lines yet)"

    async def show(self) -> None:
        self.open()
        await self.load()


def server_banner(server: LlamaServer) -> None:
    """Hidden while llama-server is ready (or being looked for, a moment at start)."""
    state = server.state
    dialog = BuildLinesDialog(server)
    with ui.card().classes("w-full gap-2").bind_visibility_from(state, "info", _shown).mark("server-banner"):
        with ui.row().classes("w-full items-center justify-between no-wrap gap-2"):
            with ui.row().classes("items-center gap-2 no-wrap min-w-0"):
                icon = ui.icon("construction")
                icon.bind_name_from(state, "info", lambda i: "error" if _failed(i) else "construction")
                ui.label().classes("font-bold").bind_text_from(state, "info", headline)
            ui.button("Show last lines", icon="article", on_click=dialog.show).props("flat dense").classes(
                "min-h-[44px] shrink-0").mark("show-build-lines")
        progress = ui.linear_progress(value=0, show_value=False, size="10px").classes("w-full").mark("build-progress")
        progress.bind_value_from(state, "info", _fraction).bind_visibility_from(state, "info", _building)
        ui.label().classes("text-sm").bind_text_from(state, "info", progress_line).mark("build-progress-line")
        note = ui.label().classes("text-sm break-words opacity-80").mark("build-note")
        note.bind_text_from(state, "info", detail_line).bind_visibility_from(state, "info", _building)
        failure = ui.label().classes("text-sm break-words text-negative").mark("build-failure")
        failure.bind_text_from(state, "info", detail_line).bind_visibility_from(state, "info", _failed)
