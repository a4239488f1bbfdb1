"""The speed a card shows: a figure while the server generates, `idle` when it has nothing to do (the cards of a
real idle server say so in the browser tests: tests/browser/test_phone_first.py)."""

from __future__ import annotations

from datetime import UTC, datetime

from protocol import ModelConfig, ModelStatus
from protocol.messages import MetricsSample
from store.model_state import ModelState
from ui.components.card_face import speed_line


def running(figures: MetricsSample | None) -> ModelState:
    return ModelState(config=ModelConfig(name="m", model_path="/models/m.gguf"), status=ModelStatus.RUNNING,
                      figures=figures)


def test_a_generating_server_shows_its_speed_and_an_idle_one_says_idle() -> None:
    now = datetime.now(UTC)
    assert speed_line(running(MetricsSample(at=now, tokens_per_second=12.34, requests_processing=1))) == "12.3 tok/s"
    assert speed_line(running(MetricsSample(at=now, tokens_per_second=0.0, requests_processing=0))) == "idle"
    # A request still reading its prompt generates nothing yet: it is busy, not idle.
    assert speed_line(running(MetricsSample(at=now, tokens_per_second=0.0, requests_processing=1))) == "0.0 tok/s"
    assert speed_line(running(None)) == "-"  # no sample yet


def test_a_card_that_does_not_run_shows_no_speed() -> None:
    state = running(MetricsSample(at=datetime.now(UTC), tokens_per_second=5.0, requests_processing=1))
    state.status = ModelStatus.STOPPING
    assert speed_line(state) == ""
