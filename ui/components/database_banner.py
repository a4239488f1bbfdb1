"""On every page while the database refuses writes (why, that nothing is lost meanwhile, or what gave way to
keep memory bounded), and after the app recreated a database file that was deleted under it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from nicegui import ui

from store.database_health import DatabaseHealth
from store.journal import RETRY_INTERVAL


def _problem_line(problem: str | None) -> str:
    if not problem:
        return ""
    return (f"ModelDeck cannot save to its database: {problem}. Changes are refused; live updates wait in memory "
            f"and are written as soon as it can write again (tried every {RETRY_INTERVAL:g} s).")


def _dropped_line(dropped: int) -> str:
    if not dropped:
        return ""
    return (f"{dropped:,} of the oldest waiting figures, log lines or crashes gave way to newer ones to keep memory "
            "bounded; each model's latest status is kept.")


def _line(health: DatabaseHealth, field: str, words: Callable[[Any], str]) -> None:
    ui.label().classes("text-sm break-words").bind_text_from(health, field, words).bind_visibility_from(
        health, field, bool).mark(f"database-{field}")


def database_banner(health: DatabaseHealth) -> None:
    """Each part hidden while there is nothing to say: every write goes through, nothing was recreated."""
    with ui.card().classes("w-full bg-negative text-white").bind_visibility_from(health, "problem", bool).mark(
            "database-banner"), ui.row().classes("items-center gap-2 no-wrap"):
        ui.icon("error")
        with ui.column().classes("gap-1"):
            _line(health, "problem", _problem_line)
            _line(health, "dropped", _dropped_line)
    with ui.card().classes("w-full").bind_visibility_from(health, "notice", bool).mark(
            "database-banner"), ui.row().classes("items-center gap-2 no-wrap"):
        ui.icon("restore")
        _line(health, "notice", lambda notice: notice or "")
