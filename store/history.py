"""What the history charts show: series over a chosen window, from SQLite, and the same figures
computed from a live sample so a chart can append it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from enum import Enum

from db.history import HOST_SERIES, MODEL_SERIES, Series, host_series, model_series
from protocol.messages import HostSample, MetricsSample

__all__ = ["HOST_SERIES_NAMES", "MODEL_SERIES_NAMES", "Series", "Window", "host_history", "host_point",
           "model_history", "model_point"]

HOST_SERIES_NAMES = tuple(HOST_SERIES)
MODEL_SERIES_NAMES = tuple(MODEL_SERIES)


class Window(Enum):
    """A chart's time span and the bucket it averages over (about a thousand points at most)."""

    MINUTES_15 = ("15 min", timedelta(minutes=15), 1)
    HOUR_1 = ("1 h", timedelta(hours=1), 5)
    HOURS_24 = ("24 h", timedelta(hours=24), 60)

    def __init__(self, label: str, span: timedelta, bucket_s: int) -> None:
        self.label = label
        self.span = span
        self.bucket_s = bucket_s

    def start(self) -> datetime:
        return datetime.now(UTC) - self.span


async def host_history(window: Window) -> Series:
    return await host_series(window.start(), window.bucket_s)


async def model_history(uid: str, window: Window) -> Series:
    return await model_series(uid, window.start(), window.bucket_s)


def _percent(part: float | None, whole: float | None) -> float | None:
    return None if part is None or not whole else part * 100 / whole


def host_point(sample: HostSample) -> dict[str, float | None]:
    """The same figures as a stored host row gives the chart (its GPUs folded the same way)."""
    gpus = sample.gpu_totals()
    return {"CPU %": sample.cpu_percent,
            "RAM %": _percent(sample.ram_used_bytes, sample.ram_total_bytes),
            "GPU %": gpus.utilization_percent,
            "VRAM %": _percent(gpus.memory_used_bytes, gpus.memory_total_bytes)}


def model_point(sample: MetricsSample) -> dict[str, float | None]:
    return {"tokens/s": sample.tokens_per_second,
            "prompt tokens/s": sample.prompt_tokens_per_second,
            "requests": sample.requests_processing}
