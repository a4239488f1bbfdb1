"""/audit: who did what, when (newest first), for admins."""

from __future__ import annotations

from nicegui import ui

from store import audit
from ui.page import page
from ui.services import Services
from ui.theme import admins_only, frame

PHONE_QUERY = "window.matchMedia('(max-width: 599.98px)').matches"  # as PHONE_CSS in ui/pwa.py; read at render
COLUMNS = [
    {"name": "at", "label": "When (UTC)", "field": "at", "align": "left"},
    {"name": "actor", "label": "Who", "field": "actor", "align": "left"},
    {"name": "action", "label": "What", "field": "action", "align": "left"},
    {"name": "target", "label": "On", "field": "target", "align": "left"},
    {"name": "detail", "label": "Detail", "field": "detail", "align": "left"},
    {"name": "address", "label": "From", "field": "address", "align": "left"},
]


def register(services: Services) -> None:
    @page("/audit")
    async def audit_page() -> None:
        with frame("Audit", services) as actor:
            ui.label("Audit log").classes("text-2xl font-bold")
            if not admins_only(actor, "read the audit log"):
                return
            entries = await audit.recent(actor)
            rows = [{"key": i, "at": e.at.strftime("%Y-%m-%d %H:%M:%S"), "actor": e.actor, "action": e.action,
                     "target": e.target, "detail": e.detail, "address": e.address or ""} for i, e in enumerate(entries)]
            # On a phone each entry is a small card of its own (Quasar's grid mode): six columns do not fit 360 px.
            table = ui.table(columns=COLUMNS, rows=rows, row_key="key").classes("w-full").props("dense flat")
            table.props[":grid"] = PHONE_QUERY
            table.mark("audit-table")
