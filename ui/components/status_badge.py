"""A coloured badge that follows a model's status."""

from __future__ import annotations

from typing import Any

from nicegui import binding, ui

from protocol import ModelStatus
from store.model_state import ModelState

# Background and text: each pair at least 4.5:1 (WCAG AA), in light and dark mode alike.
STATUS_COLOURS = {
    ModelStatus.STOPPED: ("grey-7", "white"),
    ModelStatus.STARTING: ("amber-8", "black"),
    ModelStatus.RUNNING: ("green-9", "white"),
    ModelStatus.STOPPING: ("amber-8", "black"),
    ModelStatus.ERROR: ("red-8", "white"),
}


def _show_status(badge: StatusBadge, status: ModelStatus) -> None:
    badge.text = str(status)
    background, text = STATUS_COLOURS[status]
    badge.props(f"color={background} text-color={text}")


class StatusBadge(ui.badge):
    status: Any = binding.BindableProperty(on_change=_show_status)

    def __init__(self, state: ModelState) -> None:
        super().__init__()
        self.classes("text-sm px-2 py-1")
        self.status = state.status  # the first assignment does not call on_change
        _show_status(self, state.status)
        binding.bind_from(self, "status", state, "status")
