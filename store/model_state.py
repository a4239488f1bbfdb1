"""What the UI shows of one model: its configuration, status and live figures, all bindable.

Only the deck (store/deck.py) assigns these fields; everything else reads them or asks the deck.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from nicegui import binding

from discovery import FitEstimate, GgufInfo
from protocol import ModelConfig, ModelStatus
from protocol.config import RESTART_FIELDS, differences, field_label
from protocol.messages import MetricsSample, PendingRestart, Placement


@binding.bindable_dataclass
class ModelState:
    """Assigning any field updates every connected client (no polling)."""

    config: ModelConfig  # as saved
    # As its server was started with (kept while it runs; the card shows it and what waits for the next start).
    launched: ModelConfig | None = None
    status: ModelStatus = ModelStatus.STOPPED
    exit_code: int | None = None
    reason: str | None = None
    last_lines: list[str] = field(default_factory=list)
    problem: str | None = None  # exit code, reason and a pending restart in one line, for the card
    restart: PendingRestart | None = None  # with `error`: the runner starts it again soon
    blocked: str | None = None  # why it cannot start with the runner's llama-server (a refused flag), if so
    pid: int | None = None
    port: int | None = None
    server_key: str | None = None  # the running server's own API key, for the gateway; never shown
    info: GgufInfo | None = None  # the model file's metadata, once read
    fit: FitEstimate | None = None  # weights + KV cache against the memory free when last estimated
    figures: MetricsSample | None = None  # the latest sample, replaced whole: one update per sample
    placement: Placement | None = None  # where the running server put the model (CPU, GPUs and layers)
    unknown: str | None = None  # while the runner cannot be reached: that the status shown is only the last known
    # The gateway's traffic (docs/gateway.md, "Queueing and eviction"):
    in_flight: int = 0  # requests forwarded to its server and not yet answered
    waiting: int = 0  # requests waiting for it to start, or for room to start it
    last_used: datetime | None = None  # when its last request ended, or when it began to run: for LRU
    unload_at: datetime | None = None  # when it unloads unless a request comes (idle unload); None: not counting
    requests_per_minute: int = 0  # requests that ended in the last minute

    @property
    def uid(self) -> str:
        return self.config.uid

    @property
    def name(self) -> str:
        return self.config.name

    @property
    def running_with(self) -> ModelConfig:
        """The configuration its server runs with while it has one (the saved one when that is not known: a
        server started before this dashboard), the saved one otherwise."""
        return self.launched if self.launched is not None and self.status.is_active else self.config

    @property
    def pending(self) -> list[str]:
        """The fields saved since its server started that it only takes at its next start (the form's words);
        empty while it has no server, or runs as saved."""
        launched = self.running_with
        if launched is self.config:
            return []
        return [field_label(name) for name in sorted(differences(launched, self.config).keys() & RESTART_FIELDS)]


@dataclass(frozen=True)
class StatusChange:
    """A status with what explains it: the part of a model's state that is kept in its database row (all but
    `restart`: a restart is the runner's to carry out, and no runner carries out one it never heard of)."""

    status: ModelStatus
    exit_code: int | None = None
    reason: str | None = None
    last_lines: tuple[str, ...] = ()
    restart: PendingRestart | None = None

    @classmethod
    def shown_by(cls, state: ModelState) -> StatusChange:
        return cls(state.status, state.exit_code, state.reason, tuple(state.last_lines), state.restart)

    @property
    def problem(self) -> str | None:
        """Exit code, reason and a pending restart in one line; None when there is none of them, while starting
        (a starting model's reason says what it waits for), and for a stop without an exit code (its reason says
        why ModelDeck stopped it: idle, or room for another model)."""
        if self.status is ModelStatus.STARTING or (self.exit_code is None and not self.reason):
            return None
        if self.status is ModelStatus.STOPPED and self.exit_code is None:
            return None
        code = "" if self.exit_code is None else f"exit code {self.exit_code}"
        return " · ".join(part for part in (code, self.reason, self.restart and self.restart.note) if part)

    @property
    def is_crash(self) -> bool:
        """An error with an exit code: a server that ran and died (a refused file has no exit code)."""
        return self.status is ModelStatus.ERROR and self.exit_code is not None
