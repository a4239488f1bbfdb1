"""The dashboard's live figures beyond one model's card: the host, fleet totals, and sample events
for charts that append points as they arrive (subscribed inside a page, so they die with it)."""

from __future__ import annotations

from collections.abc import Iterable

from nicegui import Event, binding

from protocol import ModelStatus
from protocol.messages import HostSample, MetricsSample
from store.model_state import ModelState


@binding.bindable_dataclass
class HostState:
    sample: HostSample | None = None  # the latest, replaced whole: one update per sample


@binding.bindable_dataclass
class Totals:
    models_running: int = 0
    # llama-server counts no finished requests, only tokens: the sum of its tokens_predicted_total
    # over the servers running now (a server's count starts again at zero when it restarts).
    tokens_generated: int = 0


class Monitor:
    def __init__(self) -> None:
        self.host = HostState()
        self.totals = Totals()
        self.host_sampled: Event[HostSample] = Event()
        self.model_sampled: Event[str, MetricsSample] = Event()

    def host_arrived(self, sample: HostSample) -> None:
        self.host.sample = sample
        self.host_sampled.emit(sample)

    def model_arrived(self, uid: str, before: MetricsSample | None, sample: MetricsSample) -> None:
        """A model's new sample replaced `before`: the totals move by the difference (no recount per sample)."""
        self.model_sampled.emit(uid, sample)
        grown = (sample.tokens_predicted_total or 0) - ((before and before.tokens_predicted_total) or 0)
        if grown:
            self.totals.tokens_generated += grown

    def recount(self, models: Iterable[ModelState]) -> None:
        """From scratch, after a status change (which may have cleared a model's figures)."""
        running = generated = 0
        for state in models:
            running += state.status is ModelStatus.RUNNING
            generated += (state.figures and state.figures.tokens_predicted_total) or 0
        if (running, generated) != (self.totals.models_running, self.totals.tokens_generated):
            self.totals.models_running, self.totals.tokens_generated = running, generated
