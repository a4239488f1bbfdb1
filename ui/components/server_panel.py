"""About this server: the llama-server binary the runner uses, its version, backend and devices."""

from __future__ import annotations

from collections.abc import Callable

from nicegui import ui

from protocol.llama_server import ServerPhase
from protocol.messages import LlamaServerInfo
from protocol.units import format_duration
from store.llama_server import LlamaServer


def _status(info: LlamaServerInfo) -> str:
    if info.phase is ServerPhase.BUILDING and info.build is not None:
        return "being built" + (f" ({info.build.percent:.0f} %)" if info.build.percent is not None else "")
    if info.phase is ServerPhase.FAILED:
        return f"not available: {info.reason}"
    return "ready" if info.phase is ServerPhase.READY else "being looked for"


def _devices(info: LlamaServerInfo) -> str:
    if info.phase is not ServerPhase.READY:
        return "-"
    return "\n".join(info.devices) if info.devices else "the CPU only (no GPU devices)"


def _built(info: LlamaServerInfo) -> str:
    if info.build is None or info.phase is not ServerPhase.READY:
        return "-"
    return f"here, in {format_duration(info.build.elapsed_s)}"


ROWS: tuple[tuple[str, str, Callable[[LlamaServerInfo], str]], ...] = (
    ("Status", "server-status", _status),
    ("Binary", "server-path", lambda info: info.path or "-"),
    ("Found", "server-found-by", lambda info: f"by {info.found_by}" if info.found_by else "-"),
    ("Version", "server-version", lambda info: info.version or "-"),
    ("Backend for builds", "server-backend", lambda info: info.backend_reason or info.backend.value),
    ("Devices", "server-devices", _devices),
    ("Built", "server-built", _built),
)


def _when_known(text: Callable[[LlamaServerInfo], str]) -> Callable[[LlamaServerInfo | None], str]:
    return lambda info: "" if info is None else text(info)


def about_server(server: LlamaServer) -> None:
    with ui.card().classes("w-full gap-2").mark("about-server"):
        ui.label("About this server: llama-server").classes("font-bold")
        ui.label("The runner has not said yet.").classes("text-sm opacity-70").bind_visibility_from(
            server.state, "info", lambda info: info is None)
        with ui.grid(columns="auto 1fr").classes("w-full gap-x-4 gap-y-1 text-sm").bind_visibility_from(
                server.state, "info", bool):
            for label, marker, text in ROWS:
                ui.label(label).classes("opacity-70")
                ui.label().classes("break-all whitespace-pre-line").bind_text_from(
                    server.state, "info", _when_known(text)).mark(marker)
