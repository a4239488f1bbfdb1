"""/activity: every request the gateway answered, newest first, live; filters by model, key and status; CSV.

New requests gather as they arrive and are drawn by a timer a few times a second, so a burst of
requests costs one table update per draw, not one per request.
"""

from __future__ import annotations

import csv
import io

from nicegui import ui

from store.activity import ActivityEntry, ActivityFilter, as_csv_rows
from ui.page import page
from ui.services import Services
from ui.theme import frame

ROWS_SHOWN = 500
DRAW_EVERY_S = 0.5
STATUSES = {"": "All statuses", "2xx": "Succeeded (2xx)", "4xx": "Refused (4xx)", "5xx": "Failed (5xx)",
            "499": "Client went away (499)"}
WIDE_ONLY = "max-sm:hidden"  # columns a phone leaves out: when, model, status, time taken and the problem stay
COLUMNS = [
    {"name": "at", "label": "When (UTC)", "field": "at", "align": "left", "classes": "whitespace-nowrap"},
    {"name": "key", "label": "Key", "field": "key", "align": "left", "classes": WIDE_ONLY, "headerClasses": WIDE_ONLY},
    {"name": "model", "label": "Model", "field": "model", "align": "left"},
    {"name": "route", "label": "Route", "field": "route", "align": "left", "classes": WIDE_ONLY,
     "headerClasses": WIDE_ONLY},
    {"name": "status", "label": "Status", "field": "status"},
    {"name": "tokens", "label": "Tokens in / out (cached)", "field": "tokens", "classes": WIDE_ONLY,
     "headerClasses": WIDE_ONLY},
    {"name": "ttft", "label": "First token", "field": "ttft", "classes": WIDE_ONLY, "headerClasses": WIDE_ONLY},
    {"name": "duration", "label": "Took", "field": "duration", "classes": "whitespace-nowrap"},
    {"name": "speed", "label": "Tokens/s", "field": "speed", "classes": WIDE_ONLY, "headerClasses": WIDE_ONLY},
    {"name": "error", "label": "Problem", "field": "error", "align": "left"},
]


def _ms(value: float | None) -> str:
    if value is None:
        return "—"
    return f"{value:.0f} ms" if value < 10_000 else f"{value / 1000:.1f} s"


def _row(number: int, entry: ActivityEntry) -> dict[str, object]:
    cached = f" ({entry.cached_tokens})" if entry.cached_tokens else ""
    tokens = "—" if entry.prompt_tokens is None else f"{entry.prompt_tokens} / {entry.completion_tokens or 0}{cached}"
    return {"id": number, "at": entry.at.strftime("%m-%d %H:%M:%S"), "key": entry.key_name, "model": entry.model,
            "route": entry.route, "status": entry.status, "tokens": tokens, "ttft": _ms(entry.ttft_ms),
            "duration": _ms(entry.duration_ms),
            "speed": "—" if entry.tokens_per_second is None else f"{entry.tokens_per_second:.1f}",
            "error": entry.error or ""}


def register(services: Services) -> None:
    deck, activity = services.deck, services.activity

    @page("/activity")
    def activity_page() -> None:
        arrived: list[ActivityEntry] = []
        counter = iter(range(1 << 62))

        def wanted() -> ActivityFilter:
            return ActivityFilter(model=model_choice.value or None, key_name=key_choice.value or None,
                                  status=status_choice.value or None)

        def redraw() -> None:
            chosen = wanted()
            matching = [entry for entry in reversed(activity.recent) if chosen.matches(entry)][:ROWS_SHOWN]
            table.rows = [_row(next(counter), entry) for entry in matching]
            arrived.clear()

        def draw() -> None:
            if not arrived:
                return
            chosen = wanted()
            fresh = [_row(next(counter), entry) for entry in reversed(arrived) if chosen.matches(entry)]
            arrived.clear()
            if fresh:
                table.rows = (fresh + table.rows)[:ROWS_SHOWN]

        async def download() -> None:
            text = io.StringIO()
            csv.writer(text).writerows(as_csv_rows(await activity.stored(wanted())))
            ui.download.content(text.getvalue().encode(), "modeldeck-activity.csv", "text/csv")

        models = sorted({state.name for state in deck.in_order()} | {entry.model for entry in activity.recent})
        keys = sorted({entry.key_name for entry in activity.recent})
        with frame("Activity", services):
            ui.label("Activity").classes("text-2xl font-bold")
            ui.label("Every request apps sent to the gateway (/v1), newest first.").classes("text-sm opacity-70")
            with ui.grid().classes("w-full gap-2 grid-cols-1 sm:grid-cols-3"):
                model_choice = ui.select({"": "All models", **{name: name for name in models}}, value="",
                                         label="Model").mark("activity-model")
                key_choice = ui.select({"": "All keys", **{name: name for name in keys}}, value="",
                                       label="Key").mark("activity-key")
                status_choice = ui.select(STATUSES, value="", label="Status").mark("activity-status")
            ui.button("Download CSV", icon="download", on_click=download).classes("min-h-[44px]").mark(
                "activity-download")
            table = ui.table(columns=COLUMNS, rows=[], row_key="id").classes("w-full").props(
                "dense flat wrap-cells").mark("activity-table")
        for choice in (model_choice, key_choice, status_choice):
            choice.on_value_change(redraw)
        redraw()
        ui.timer(DRAW_EVERY_S, draw)
        activity.arrived.subscribe(arrived.append)
