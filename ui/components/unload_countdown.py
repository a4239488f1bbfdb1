"""How long until an idle model unloads. The deck sets one timestamp when the countdown begins; the browser
counts down from it, so the server sends nothing while it runs (a phone's clock set by the network agrees
with the server's to well within a second)."""

from __future__ import annotations

from datetime import datetime

from nicegui import binding, ui
from nicegui.client import Client

from protocol.units import format_duration
from store.model_state import ModelState

# Every second, each countdown on the page says what is left (the server's text says when, for a page whose
# script has not run yet).
COUNTDOWN_SCRIPT = """<script>
setInterval(() => {
  for (const el of document.querySelectorAll("[data-unload-at]")) {
    const left = Math.max(0, Math.round((Number(el.dataset.unloadAt) - Date.now()) / 1000));
    const text = left < 60 ? `${left} s` : left < 3600 ? `${Math.floor(left / 60)} min ${left % 60} s`
      : `${Math.floor(left / 3600)} h ${Math.floor(left % 3600 / 60)} min`;
    el.textContent = `idle · unloads in ${text}`;
  }
}, 1000);
</script>"""


def install() -> None:
    """Put the countdown's script on every page, once (the app may be built more than once in a process)."""
    if COUNTDOWN_SCRIPT not in Client.shared_body_html:
        ui.add_body_html(COUNTDOWN_SCRIPT, shared=True)


class UnloadCountdown(ui.label):
    """`idle · unloads in 4 min 32 s`, shown while the model counts down to its idle unload."""

    def __init__(self, state: ModelState) -> None:
        super().__init__()
        self._state = state
        self._unload_at: datetime | None = None
        self.visible = False
        binding.bind_from(self, "unload_at", state, "unload_at")

    @property
    def unload_at(self) -> datetime | None:
        return self._unload_at

    @unload_at.setter
    def unload_at(self, when: datetime | None) -> None:
        self._unload_at = when
        self.visible = when is not None
        if when is None:
            self.props(remove="data-unload-at")
            return
        idle_s = self._state.config.unload_when_idle_s
        self.text = f"idle · unloads at {when.astimezone():%H:%M:%S} ({format_duration(idle_s)} after the last request)"
        self.props(f"data-unload-at={int(when.timestamp() * 1000)}")
