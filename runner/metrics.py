"""Live figures of one running llama-server: its /metrics (Prometheus text), /slots, and psutil.

A scrape never raises: whatever the server or the OS does not say stays None in the sample.
"""

from __future__ import annotations

import asyncio
import json
import logging
import math
from datetime import UTC, datetime
from typing import Any

import aiohttp
import psutil

from protocol.messages import MetricsSample

log = logging.getLogger(__name__)


def parse_prometheus(text: str) -> dict[str, float]:
    """Sample name -> value for unlabelled samples (llama-server's are), ignoring comments and junk."""
    values: dict[str, float] = {}
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#") or "{" in line:
            continue
        parts = line.split()
        if len(parts) < 2:
            continue
        try:
            value = float(parts[1])
        except ValueError:
            continue
        if math.isfinite(value):
            values[parts[0]] = value
    return values


def _int(value: float | None) -> int | None:
    return int(value) if value is not None else None


class ProcessProbe:
    """psutil figures for one pid; keeps the Process so CPU% is measured between two samples."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        try:
            self._proc: psutil.Process | None = psutil.Process(pid)
            self._proc.cpu_percent(interval=None)
        except psutil.Error:
            self._proc = None

    def sample(self) -> tuple[int | None, float | None]:
        if self._proc is None:
            return None, None
        try:
            with self._proc.oneshot():
                return int(self._proc.memory_info().rss), float(self._proc.cpu_percent(interval=None))
        except psutil.Error:
            return None, None


async def _get(session: aiohttp.ClientSession, url: str, headers: dict[str, str], limit_s: float) -> tuple[int, str]:
    async with session.get(url, headers=headers, timeout=aiohttp.ClientTimeout(total=limit_s)) as response:
        return response.status, await response.text()


async def scrape(session: aiohttp.ClientSession, port: int, probe: ProcessProbe | None,
                 vram_bytes: int | None = None, *, limit_s: float = 0.8, api_key: str | None = None) -> MetricsSample:
    """One sample of the server on `port` (answering to `api_key`); /metrics and /slots are fetched concurrently."""
    base = f"http://127.0.0.1:{port}"
    headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
    metrics_answer, slots_answer = await asyncio.gather(
        _get(session, f"{base}/metrics", headers, limit_s), _get(session, f"{base}/slots", headers, limit_s),
        return_exceptions=True)
    values: dict[str, float] = {}
    if isinstance(metrics_answer, tuple) and metrics_answer[0] == 200:
        values = parse_prometheus(metrics_answer[1])
    busy = total = None
    if isinstance(slots_answer, tuple) and slots_answer[0] == 200:
        busy, total = _slots(slots_answer[1])
    rss, cpu = probe.sample() if probe is not None else (None, None)
    kv = values.get("llamacpp:kv_cache_usage_ratio")
    return MetricsSample(
        at=datetime.now(UTC),
        tokens_per_second=values.get("llamacpp:predicted_tokens_seconds"),
        prompt_tokens_per_second=values.get("llamacpp:prompt_tokens_seconds"),
        requests_processing=_int(values.get("llamacpp:requests_processing")),
        requests_deferred=_int(values.get("llamacpp:requests_deferred")),
        busy_slots=busy, total_slots=total,
        tokens_predicted_total=_int(values.get("llamacpp:tokens_predicted_total")),
        prompt_tokens_total=_int(values.get("llamacpp:prompt_tokens_total")),
        kv_cache_usage=kv, rss_bytes=rss, cpu_percent=cpu, vram_bytes=vram_bytes)


def _slots(text: str) -> tuple[int | None, int | None]:
    try:
        slots: Any = json.loads(text)
    except ValueError:
        return None, None
    if not isinstance(slots, list):
        return None, None
    busy = sum(1 for slot in slots if isinstance(slot, dict) and slot.get("is_processing"))
    return busy, len(slots)
