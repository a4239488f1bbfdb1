"""One model as a card: what it is, how it is doing, and what can be done with it."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Protocol

from nicegui import ui

from discovery import FitEstimate
from protocol import ModelStatus
from protocol.messages import Placement
from protocol.units import format_bytes
from store.model_state import ModelState
from ui.components.figures import rate
from ui.components.status_badge import StatusBadge
from ui.components.unload_countdown import UnloadCountdown


class CardActions(Protocol):
    async def start(self, state: ModelState) -> None: ...
    async def stop(self, state: ModelState) -> None: ...
    def edit(self, state: ModelState) -> None: ...
    async def duplicate(self, state: ModelState) -> None: ...
    def delete(self, state: ModelState) -> None: ...
    def details(self, state: ModelState) -> None: ...
    async def crashes(self, state: ModelState) -> None: ...
    def info(self, state: ModelState) -> None: ...
    async def history(self, state: ModelState) -> None: ...


def _file_line(state: ModelState) -> str:
    """The file's name, and its size once the catalog has read the file (the UI itself reads no disk)."""
    name = Path(state.config.model_path).name
    return name if state.info is None else f"{name} · {format_bytes(state.info.file_size)}"


def traffic_line(state: ModelState) -> str:
    """The gateway's requests: `2 in flight · 3 waiting · 12 req/min`; empty when there are none."""
    parts = [f"{state.in_flight} in flight" if state.in_flight else "",
             f"{state.waiting} waiting" if state.waiting else "",
             f"{state.requests_per_minute} req/min" if state.requests_per_minute else ""]
    return " · ".join(part for part in parts if part)


def _reason_shown(state: ModelState) -> bool:
    """What a start waits for (the binary being built), or why ModelDeck stopped it (idle, room for another)."""
    return bool(state.reason) and (state.status is ModelStatus.STARTING or (
        state.status is ModelStatus.STOPPED and not state.problem))


def _fit_line(fit: FitEstimate | None) -> str:
    return "" if fit is None else ("" if fit.fits else "⚠ may not fit: ") + fit.summary


def placement_line(placement: Placement | None) -> str:
    """Where a running model computes: `on the CPU`, or `on CUDA0 (NVIDIA H200) · 33 of 33 layers`."""
    if placement is None:
        return ""
    if not placement.devices or placement.layers_offloaded == 0:
        on_gpu = "" if placement.layers_total is None else f" (0 of {placement.layers_total} layers on a GPU)"
        return f"on the CPU{on_gpu}"
    layers = "" if placement.layers_offloaded is None else (
        f" · {placement.layers_offloaded} of {placement.layers_total} layers")
    return f"on {', '.join(placement.devices)}{layers}"


def _fill_menu(menu: ui.menu, state: ModelState, actions: CardActions, read_only: bool) -> None:
    """The menu's items, built when it is first opened: most menus never are, and building every card's
    menu up front was most of the time a page of 200 models took to render."""
    if menu.default_slot.children:
        return
    uid = state.uid
    with menu:
        if not read_only:
            ui.menu_item("Edit", on_click=lambda: actions.edit(state)).mark(f"edit-{uid}")
            ui.menu_item("Duplicate", on_click=lambda: actions.duplicate(state)).mark(f"duplicate-{uid}")
        ui.menu_item("Info", on_click=lambda: actions.info(state)).mark(f"info-{uid}")
        ui.menu_item("Error details", on_click=lambda: actions.details(state)).mark(
            f"details-{uid}").bind_visibility_from(state, "exit_code", lambda code: code is not None)
        ui.menu_item("Crashes", on_click=lambda: actions.crashes(state)).mark(f"crashes-{uid}")
        ui.menu_item("History", on_click=lambda: actions.history(state)).mark(f"history-{uid}")
        ui.menu_item("Logs", on_click=lambda: ui.navigate.to(f"/logs?model={uid}")).mark(f"logs-{uid}")
        if not read_only:
            ui.separator()
            ui.menu_item("Delete", on_click=lambda: actions.delete(state)).classes("text-negative").mark(
                f"delete-{uid}")


def model_card(state: ModelState, actions: CardActions, *, read_only: bool = False,
               leading: Callable[[ModelState], None] | None = None) -> ui.card:
    """`read_only` (a viewer): no Start, Stop, Edit, Duplicate or Delete; the store refuses them anyway.
    `leading`: the slot before the name (select mode puts its checkbox there)."""
    uid = state.uid
    with ui.card().classes("w-full gap-2").mark(f"card-{uid}") as card:
        with ui.row().classes("w-full items-start justify-between no-wrap"):
            if leading is not None:
                leading(state)
            with ui.column().classes("gap-0 min-w-0 grow"):
                ui.label().classes("text-lg font-bold").style("overflow-wrap: anywhere").bind_text_from(
                    state, "config", lambda c: c.name)  # long names wrap between words first
                ui.label().classes("text-sm opacity-70").bind_text_from(
                    state, "config", lambda c: c.family or "unknown family")
            with ui.row().classes("items-center gap-1 no-wrap"):
                StatusBadge(state)
                with ui.button(icon="more_vert").props('flat round aria-label="Model actions"').mark(
                        f"menu-{uid}") as menu_button:
                    menu = ui.menu()
                menu_button.on_click(lambda: _fill_menu(menu, state, actions, read_only))
        ui.label().classes("text-sm break-all").bind_text_from(
            state, "config", lambda _: _file_line(state)).bind_text_from(state, "info", lambda _: _file_line(state))
        with ui.row().classes("text-sm gap-4"):
            ui.label().bind_text_from(state, "config", lambda c: f"ctx {c.ctx_size}")
            ui.label().bind_text_from(state, "port", lambda port: f"port {port or state.config.port or 'auto'}")
        ui.label().classes("text-sm opacity-80").bind_text_from(state, "fit", _fit_line).bind_visibility_from(
            state, "fit", bool).mark(f"fit-{uid}")
        ui.label().classes("text-sm text-orange-10 break-words").bind_text_from(
            state, "unknown", lambda unknown: unknown or "").bind_visibility_from(state, "unknown", bool).mark(
            f"unknown-{uid}")  # the runner cannot be reached: the status above is only the last known one
        ui.label().classes("text-sm text-negative break-words").bind_text_from(
            state, "problem", lambda problem: problem or "").bind_visibility_from(state, "problem", bool).mark(
            f"problem-{uid}")
        ui.label().classes("text-sm text-negative break-words").bind_text_from(
            state, "blocked", lambda why: f"Cannot start: {why}. Edit it to fix." if why else "").bind_visibility_from(
            state, "blocked", bool).mark(f"blocked-{uid}")
        waiting = ui.label().classes("text-sm opacity-80 break-words").mark(f"waiting-{uid}")  # for the binary, say
        waiting.bind_text_from(state, "reason", lambda reason: reason or "").bind_visibility_from(
            state, "reason", lambda _: _reason_shown(state))
        traffic = ui.label().classes("text-sm").mark(f"traffic-{uid}")
        for name in ("in_flight", "waiting", "requests_per_minute"):
            traffic.bind_text_from(state, name, lambda _: traffic_line(state)).bind_visibility_from(
                state, name, lambda _: bool(traffic_line(state)))
        UnloadCountdown(state).classes("text-sm opacity-80").mark(f"unload-{uid}")
        with ui.row().classes("text-sm gap-x-4 gap-y-0").bind_visibility_from(state, "status",
                                                                             lambda s: s == "running"):
            ui.label().bind_text_from(state, "figures", lambda f: rate(f and f.tokens_per_second, "tok/s"))
            ui.label().bind_text_from(state, "figures", lambda f: f"RAM {format_bytes(f and f.rss_bytes)}")
            ui.label().bind_text_from(state, "figures", lambda f: f"VRAM {format_bytes(f and f.vram_bytes)}"
                                      ).bind_visibility_from(state, "figures", lambda f: bool(f and f.vram_bytes))
            ui.label().bind_text_from(state, "placement", placement_line).mark(f"placement-{uid}")
        if read_only:
            return card
        with ui.row().classes("w-full gap-2"):
            ui.button("Start", icon="play_arrow", on_click=lambda: actions.start(state)).classes(
                "flex-1 min-h-[44px]").bind_enabled_from(state, "status", lambda s: s.can_start).mark(f"start-{uid}")
            ui.button("Stop", icon="stop", color="negative", on_click=lambda: actions.stop(state)).classes(
                "flex-1 min-h-[44px]").bind_enabled_from(state, "status", lambda s: s.can_stop).mark(f"stop-{uid}")
    return card
