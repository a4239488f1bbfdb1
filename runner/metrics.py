"""Live figures of one running llama-server: its /metrics (Prometheus text), /slots, and psutil.

A scrape never raises: whatever the server or the OS does not say stays None in the sample.

Speed is live: llama-server's /metrics throughput gauges only move when a request ends, so while a
request runs tokens/s comes from the slots' own progress (`next_token[0].n_decoded`, and
`n_prompt_tokens_processed` while a long prompt is read) over the last LIVE_WINDOW_S, summed over
the slots at work. When no slot is at work the gauges say how fast the requests that ended since
the last sample went (0 when none did).
"""

from __future__ import annotations

import asyncio
import json
import logging
import math
import time
from collections import deque
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import aiohttp
import psutil

from protocol.messages import MetricsSample

log = logging.getLogger(__name__)

LIVE_WINDOW_S = 3.0  # as llama-server's own in-progress log line (tg_3s): recent, yet steady


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


@dataclass(frozen=True)
class SlotProgress:
    """What /slots says of one slot's current (or, when idle, last) request."""

    task: int | None
    processing: bool
    prompt_processed: int
    decoded: int


def read_slots(text: str) -> dict[int, SlotProgress] | None:
    """Slot id -> progress from a /slots answer; None when it is not the list llama-server sends."""
    try:
        slots: Any = json.loads(text)
    except ValueError:
        return None
    if not isinstance(slots, list):
        return None
    progress: dict[int, SlotProgress] = {}
    for index, slot in enumerate(slots):
        if not isinstance(slot, dict):
            continue
        next_token = slot.get("next_token")
        first = next_token[0] if isinstance(next_token, list) and next_token and isinstance(next_token[0], dict) else {}
        slot_id = slot.get("id")
        task = slot.get("id_task")
        progress[slot_id if isinstance(slot_id, int) else index] = SlotProgress(
            task=task if isinstance(task, int) else None, processing=slot.get("is_processing") is True,
            prompt_processed=_count(slot.get("n_prompt_tokens_processed")), decoded=_count(first.get("n_decoded")))
    return progress


def _count(value: object) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else 0


class LiveSpeed:
    """Tokens/s and prompt tokens/s of the requests running now, from each slot's progress over time.

    A slot's rate counts only what it did while it was seen at work on one request: tokens decoded
    between the first and the last sample of the window that saw it generating (so the prompt's time
    is not charged to generation), prompt tokens while it has not generated yet.
    """

    def __init__(self, window_s: float = LIVE_WINDOW_S) -> None:
        self._window_s = window_s
        self._tasks: dict[int, int | None] = {}
        self._points: dict[int, deque[tuple[float, SlotProgress]]] = {}

    def update(self, slots: dict[int, SlotProgress] | None, at: float) -> tuple[float | None, float | None]:
        """Feed one /slots reading taken at `at` (monotonic seconds); (tokens/s, prompt tokens/s) summed
        over the slots at work, each None when no slot was seen at it twice."""
        if slots is None:  # no answer: a gap would read as a burst, start afresh
            self._tasks.clear()
            self._points.clear()
            return None, None
        generating: float | None = None
        prompting: float | None = None
        for slot_id in set(self._points) - set(slots):
            del self._points[slot_id]
        for slot_id, progress in slots.items():
            if not progress.processing:
                self._points.pop(slot_id, None)
                continue
            points = self._points.get(slot_id)
            if points is None or self._tasks.get(slot_id) != progress.task:
                points = self._points[slot_id] = deque()
                self._tasks[slot_id] = progress.task
            points.append((at, progress))
            while len(points) > 2 and points[1][0] <= at - self._window_s:
                points.popleft()
            if progress.decoded > 0:
                seen = [(t, p.decoded) for t, p in points if p.decoded > 0]
                rate = _rate(seen[0], seen[-1])
                if rate is not None:
                    generating = (generating or 0.0) + rate
            else:
                rate = _rate((points[0][0], points[0][1].prompt_processed), (at, progress.prompt_processed))
                if rate is not None:
                    prompting = (prompting or 0.0) + rate
        return generating, prompting


def _rate(first: tuple[float, int], last: tuple[float, int]) -> float | None:
    elapsed = last[0] - first[0]
    return (last[1] - first[1]) / elapsed if elapsed > 0 else None


class ServerProbe:
    """How one run of a server (one pid) is measured: psutil's Process, kept so CPU% is measured
    between two samples, and the slots' progress for live speed."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.speed = LiveSpeed()
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


async def _get(session: aiohttp.ClientSession, url: str, headers: dict[str, str],
               limit_s: float) -> tuple[int, str, float]:
    """Status, body, and the monotonic time the answer came (llama-server answers between two decode steps)."""
    async with session.get(url, headers=headers, timeout=aiohttp.ClientTimeout(total=limit_s)) as response:
        return response.status, await response.text(), time.monotonic()


async def scrape(session: aiohttp.ClientSession, port: int, probe: ServerProbe | None,
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
    slots = read_slots(slots_answer[1]) if isinstance(slots_answer, tuple) and slots_answer[0] == 200 else None
    busy = sum(1 for slot in slots.values() if slot.processing) if slots is not None else None
    generating = prompting = None
    if probe is not None:
        generating, prompting = probe.speed.update(
            slots, slots_answer[2] if isinstance(slots_answer, tuple) else time.monotonic())
    rss, cpu = probe.sample() if probe is not None else (None, None)
    kv = values.get("llamacpp:kv_cache_usage_ratio")
    return MetricsSample(
        at=datetime.now(UTC),
        tokens_per_second=generating if generating is not None else values.get("llamacpp:predicted_tokens_seconds"),
        prompt_tokens_per_second=(prompting if prompting is not None
                                  else values.get("llamacpp:prompt_tokens_seconds")),
        requests_processing=_int(values.get("llamacpp:requests_processing")),
        requests_deferred=_int(values.get("llamacpp:requests_deferred")),
        busy_slots=busy, total_slots=len(slots) if slots is not None else None,
        tokens_predicted_total=_int(values.get("llamacpp:tokens_predicted_total")),
        prompt_tokens_total=_int(values.get("llamacpp:prompt_tokens_total")),
        kv_cache_usage=kv, rss_bytes=rss, cpu_percent=cpu, vram_bytes=vram_bytes)
