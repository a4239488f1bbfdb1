"""What the UI shows of one model: its configuration, status and live figures, all bindable."""

from __future__ import annotations

from dataclasses import field

from nicegui import binding

from discovery import FitEstimate, GgufInfo
from protocol import ModelConfig, ModelStatus
from protocol.messages import MetricsSample, Placement


@binding.bindable_dataclass
class ModelState:
    """Assigning any field updates every connected client (no polling)."""

    config: ModelConfig
    status: ModelStatus = ModelStatus.STOPPED
    exit_code: int | None = None
    reason: str | None = None
    last_lines: list[str] = field(default_factory=list)
    problem: str | None = None  # exit code and reason in one line, for the card
    pid: int | None = None
    port: int | None = None
    server_key: str | None = None  # the running server's own API key, for the gateway; never shown
    info: GgufInfo | None = None  # the model file's metadata, once read
    fit: FitEstimate | None = None  # weights + KV cache against the memory free when last estimated
    figures: MetricsSample | None = None  # the latest sample, replaced whole: one update per sample
    placement: Placement | None = None  # where the running server put the model (CPU, GPUs and layers)

    @property
    def uid(self) -> str:
        return self.config.uid

    @property
    def name(self) -> str:
        return self.config.name
