"""What the UI shows of one model: its configuration, status and live figures, all bindable."""

from __future__ import annotations

from dataclasses import field

from nicegui import binding

from protocol import ModelConfig, ModelStatus


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
    tokens_per_second: float | None = None
    prompt_tokens_per_second: float | None = None
    requests_processing: int | None = None
    rss_bytes: int | None = None
    cpu_percent: float | None = None

    @property
    def uid(self) -> str:
        return self.config.uid

    @property
    def name(self) -> str:
        return self.config.name

    def clear_figures(self) -> None:
        self.tokens_per_second = self.prompt_tokens_per_second = self.cpu_percent = None
        self.requests_processing = self.rss_bytes = None
