"""What a model's card shows, as plain data: computed once per change of the model, shared by every browser.

The grid of cards (ui/components/model_grid.py) renders every card in the browser from this data. A `CardFace`
follows every field of its `ModelState` and recomputes the face when one changes; `CardFaces.changed` tells each
open page, whose grid sends the new face to its browser: a status change or a metrics sample costs one
computation and one small message per browser, whatever the number of cards.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

from nicegui import Event, binding

from discovery import FitEstimate
from protocol import ModelStatus
from protocol.messages import Placement
from protocol.units import format_bytes, format_duration
from store.model_state import ModelState
from ui.components.figures import rate
from ui.components.status_badge import STATUS_COLOURS

Face = dict[str, Any]
WATCHED = tuple(field.name for field in dataclasses.fields(ModelState))


def file_line(state: ModelState) -> str:
    """The file's name, and its size once the catalog has read the file (the UI itself reads no disk)."""
    name = Path(state.config.model_path).name
    return name if state.info is None else f"{name} · {format_bytes(state.info.file_size)}"


def fit_line(fit: FitEstimate | None) -> str:
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


def memory_line(state: ModelState) -> str:
    figures = state.figures
    if state.status is not ModelStatus.RUNNING or figures is None:
        return ""
    vram = f" · VRAM {format_bytes(figures.vram_bytes)}" if figures.vram_bytes else ""
    return f"RAM {format_bytes(figures.rss_bytes)}{vram}"


def speed_line(state: ModelState) -> str:
    """How fast it generates now; `idle` when it has nothing to do (a `0.0 tok/s` there read like a broken figure);
    `-` until the first sample."""
    figures = state.figures
    if state.status is not ModelStatus.RUNNING:
        return ""
    if figures is not None and not figures.tokens_per_second and not figures.requests_processing:
        return "idle"
    return rate(figures.tokens_per_second if figures else None, "tok/s")


def traffic_line(state: ModelState) -> str:
    """The gateway's requests: `2 in flight · 3 waiting · 12 req/min`; empty when there are none."""
    parts = [f"{state.in_flight} in flight" if state.in_flight else "",
             f"{state.waiting} waiting" if state.waiting else "",
             f"{state.requests_per_minute} req/min" if state.requests_per_minute else ""]
    return " · ".join(part for part in parts if part)


def unload_line(state: ModelState) -> str:
    """When an idle model unloads, in the server's words; the browser replaces them with a countdown
    (model_card.js) from `unload_at`, so the server sends nothing while it counts down."""
    when = state.unload_at
    if when is None:
        return ""
    idle = format_duration(state.config.unload_when_idle_s)
    return f"idle · unloads at {when.astimezone():%H:%M:%S} ({idle} after the last request)"


def reason_line(state: ModelState) -> str:
    """What a start waits for (the binary being built), or why ModelDeck stopped it (idle, room for another)."""
    shown = state.status is ModelStatus.STARTING or (state.status is ModelStatus.STOPPED and not state.problem)
    return state.reason or "" if shown else ""


def settings_line(state: ModelState) -> str:
    """Context and port as its server runs with them (the port it listens on); once stopped, as configured."""
    config = state.running_with
    port = (state.port if state.status.is_active else None) or config.port or "auto"
    return f"ctx {config.ctx_size} · port {port}"


def pending_line(state: ModelState) -> str:
    pending = state.pending
    return f"Changes apply at the next start: {', '.join(pending)}" if pending else ""


def match_text(state: ModelState) -> str:
    """What search looks in (any case): the name, the family and the file's path."""
    config = state.config
    return f"{config.name} {config.family or ''} {config.model_path}".lower()


def face_of(state: ModelState) -> Face:
    """Every text the card shows, already in words; empty strings are lines the card leaves out."""
    status = state.status
    background, text = STATUS_COLOURS[status]
    config = state.config
    running = status is ModelStatus.RUNNING
    return {
        "uid": state.uid,
        "name": config.name,
        "family": config.family or "unknown family",
        "status": str(status),
        "badge": [background, text],
        "can_start": status.can_start,
        "can_stop": status.can_stop,
        "can_restart": running,
        "busy": status in (ModelStatus.STARTING, ModelStatus.STOPPING),
        "speed": speed_line(state),
        "file": file_line(state),
        "settings": settings_line(state),
        "pending": pending_line(state),
        "memory": memory_line(state),
        "placement": placement_line(state.placement) if running else "",
        "fit": fit_line(state.fit),
        "fits": state.fit is None or state.fit.fits,
        "unknown": state.unknown or "",  # the runner cannot be reached: the status is only the last known one
        "problem": state.problem or "",
        "blocked": f"Cannot start: {state.blocked}. Edit it to fix." if state.blocked else "",
        "waiting": reason_line(state),
        "traffic": traffic_line(state),
        "unload": unload_line(state),
        # milliseconds since the epoch, what the browser counts down to (a phone's clock set by the network agrees
        # with the server's to well within a second)
        "unload_at": None if state.unload_at is None else int(state.unload_at.timestamp() * 1000),
        "has_exit_code": state.exit_code is not None,
        "match": match_text(state),  # the browser filters on it as a person types (model_grid.js)
    }


def compact(face: Face) -> Face:
    """The face as it travels to the browser: without its uid (the grid's key) and without the lines left out
    (the browser reads a missing key as empty), about half the bytes of a stopped model's face."""
    return {key: value for key, value in face.items() if value not in ("", None, False) and key != "uid"}


def _face_changed(face: CardFace, data: Face) -> None:
    face.sent = compact(data)
    face.faces.changed.emit(data["uid"])
    if data["status"] != face.status:
        face.status = data["status"]
        face.faces.statuses.emit(data["uid"])


class CardFace:
    """One model's face, recomputed whenever one of its state's fields is assigned (an equal face sends nothing).
    `sent` is the face as the browser gets it, made once for every page."""

    data: Any = binding.BindableProperty(on_change=_face_changed)

    def __init__(self, state: ModelState, faces: CardFaces) -> None:
        self.faces = faces
        self.status = str(state.status)
        self.data = face_of(state)
        self.sent = compact(self.data)
        for name in WATCHED:
            binding.bind_from(self, "data", state, name, backward=lambda _: face_of(state))


class CardFaces:
    """The faces of every model, for every page of one app; a face is made when a card first asks for it and
    dropped with its model. `changed` tells the pages whose face changed, `statuses` whose status changed (a
    status filter follows it)."""

    def __init__(self) -> None:
        self._faces: dict[str, tuple[ModelState, CardFace]] = {}
        self.changed: Event[str] = Event()
        self.statuses: Event[str] = Event()

    def of(self, state: ModelState) -> CardFace:
        known = self._faces.get(state.uid)
        if known is None or known[0] is not state:  # a model deleted and imported again is a new state
            if known is not None:
                binding.remove([known[1]])
            known = self._faces[state.uid] = (state, CardFace(state, self))
        return known[1]

    def forget(self, uid: str) -> None:
        known = self._faces.pop(uid, None)
        if known is not None:
            binding.remove([known[1]])
