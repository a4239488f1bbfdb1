"""One model's live figures for the dashboard: status, speed, load and memory."""

from __future__ import annotations

from nicegui import ui

from protocol.messages import MetricsSample
from protocol.units import format_bytes
from store.model_state import ModelState
from ui.components.figures import rate
from ui.components.status_badge import StatusBadge


def _slots(f: MetricsSample | None) -> str:
    if f is None or f.busy_slots is None:
        return "slots -"
    return f"slots {f.busy_slots}/{f.total_slots if f.total_slots is not None else '?'} busy"


def _count(value: int | None, unit: str) -> str:
    return f"{'-' if value is None else value} {unit}"


def model_figures(state: ModelState) -> None:
    uid = state.uid
    with ui.card().classes("w-full gap-1").mark(f"figures-{uid}"):
        with ui.row().classes("w-full items-center justify-between no-wrap"):
            ui.label().classes("font-bold break-all").bind_text_from(state, "config", lambda c: c.name)
            StatusBadge(state)
        with ui.grid().classes("w-full grid-cols-2 gap-x-4 gap-y-0 text-sm"):
            ui.label().bind_text_from(state, "figures", lambda f: rate(f and f.tokens_per_second, "tok/s")).mark(
                f"tps-{uid}")
            ui.label().bind_text_from(state, "figures", lambda f: "prompt " + rate(
                f and f.prompt_tokens_per_second, "tok/s"))
            ui.label().bind_text_from(state, "figures", lambda f: _count(
                f and f.requests_processing, "in flight")).mark(f"requests-{uid}")
            ui.label().bind_text_from(state, "figures", _slots)
            ui.label().bind_text_from(state, "requests_per_minute", lambda n: f"{n} req/min").mark(f"rpm-{uid}")
            ui.label().bind_text_from(state, "waiting", lambda n: f"{n} waiting").mark(f"waiting-{uid}")
            ui.label().bind_text_from(state, "figures", lambda f: f"RSS {format_bytes(f and f.rss_bytes)}")
            ui.label().bind_text_from(state, "figures", lambda f: f"VRAM {format_bytes(f and f.vram_bytes)}"
                                      ).bind_visibility_from(state, "figures", lambda f: bool(f and f.vram_bytes))
            ui.label().bind_text_from(state, "figures", lambda f: _count(
                f and f.tokens_predicted_total, "tokens generated")).mark(f"generated-{uid}")
