"""On every page while the database refuses writes (why, and that nothing is lost meanwhile), and after the
app recreated a database file that was deleted under it."""

from __future__ import annotations

from nicegui import ui

from store.database_health import DatabaseHealth


def _problem_line(problem: str | None) -> str:
    if not problem:
        return ""
    return (f"ModelDeck cannot save to its database: {problem}. Changes are refused; live updates wait in memory "
            "and are written as soon as it can write again (tried every 2 s).")


def database_banner(health: DatabaseHealth) -> None:
    """Each part hidden while there is nothing to say: every write goes through, nothing was recreated."""
    for field, icon, colour, words in (("problem", "error", "bg-negative text-white", _problem_line),
                                       ("notice", "restore", "", lambda notice: notice or "")):
        with ui.card().classes(f"w-full {colour}").bind_visibility_from(health, field, bool).mark(
                "database-banner"), ui.row().classes("items-center gap-2 no-wrap"):
            ui.icon(icon)
            ui.label().classes("text-sm break-words").bind_text_from(health, field, words).mark(f"database-{field}")
