"""Keeping the history bounded: raw samples for a while, then 1-minute averages, then nothing.

Runs in the background every `interval_s`; each pass is one transaction, so a pass that fails (the
disk is full, the file went read-only) leaves the history as it was and the next pass tries again.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from db.retention import HOST_SAMPLES, METRIC_SAMPLES, cap_log_lines, delete_older, downsample
from db.writes import DatabaseWriteError, writing
from settings import DEFAULT
from store.supervised import in_background

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RetentionPolicy:
    raw_for: timedelta = timedelta(hours=1)  # 1 s samples this recent are kept as they came
    keep_for: timedelta = timedelta(days=DEFAULT.history_days)  # samples, logs, crashes, requests older go
    log_lines_per_model: int = DEFAULT.log_lines_per_model
    interval_s: float = 60.0


@dataclass(frozen=True)
class RetentionPass:
    downsampled: int  # raw rows folded into minute averages
    removed: int  # rows past their age or count


def _minute(at: datetime) -> datetime:
    return at.replace(second=0, microsecond=0)


class Retention:
    def __init__(self, policy: RetentionPolicy | None = None,
                 clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self.policy = policy or RetentionPolicy()
        self.clock = clock
        self._downsampled_until: datetime | None = None  # minutes before this hold one row each already

    async def run_once(self) -> RetentionPass:
        now = self.clock().astimezone(UTC)
        raw_until = _minute(now - self.policy.raw_for)  # whole minutes: none is averaged twice
        oldest = now - self.policy.keep_for
        async with writing() as connection:
            removed = await cap_log_lines(connection, self.policy.log_lines_per_model)
            # First: nothing to average. gateway_request: the gateway's activity log.
            for table in ("metric_sample", "host_sample", "log_line", "crash", "gateway_request"):
                removed += await delete_older(connection, table, oldest)
            folded = 0
            for samples in (METRIC_SAMPLES, HOST_SAMPLES):
                folded += await downsample(connection, samples, raw_until, self._downsampled_until)
        self._downsampled_until = raw_until
        return RetentionPass(folded, removed)

    async def run_forever(self) -> None:
        while True:
            try:
                done = await self.run_once()
                log.debug("retention: %s", done)
            except DatabaseWriteError as exc:
                log.warning("retention: %s; will try again", exc)
            await asyncio.sleep(self.policy.interval_s)  # a pacing timer between passes


@asynccontextmanager
async def keeping_history(policy: RetentionPolicy) -> AsyncIterator[Retention]:
    """Retention passes in the background while open (the database must be open first)."""
    retention = Retention(policy)
    async with in_background("retention", retention.run_forever):
        yield retention
