"""A coloured badge that follows a model's status."""

from __future__ import annotations

from typing import Any

from nicegui import binding, ui

from protocol import ModelStatus
from store.model_state import ModelState

STATUS_COLOURS = {
    ModelStatus.STOPPED: "grey-7",
    ModelStatus.STARTING: "amber-9",
    ModelStatus.RUNNING: "green-8",
    ModelStatus.STOPPING: "amber-9",
    ModelStatus.ERROR: "red-8",
}


def _show_status(badge: StatusBadge, status: ModelStatus) -> None:
    badge.text = str(status)
    badge.props(f"color={STATUS_COLOURS[status]}")


class StatusBadge(ui.badge):
    status: Any = binding.BindableProperty(on_change=_show_status)

    def __init__(self, state: ModelState) -> None:
        super().__init__()
        self.classes("text-sm px-2 py-1")
        self.status = state.status  # the first assignment does not call on_change
        _show_status(self, state.status)
        binding.bind_from(self, "status", state, "status")
