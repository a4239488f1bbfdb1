"""The journal: what the deck hands it, written behind to SQLite in batches.

The deck changes the in-memory state at once (every browser sees it on the next update) and hands
the journal what must survive a restart; it never touches a ModelState. Writes are coalesced: one
transaction per flush interval carries the latest status of each changed model, every metrics and
host sample and log line since the last flush, and a crash row for each crash. A burst of events
therefore costs a few transactions, never one per event, and never blocks the loop. A batch that
fails, for whatever reason, is kept for the next try; writing() reports why to the banner. What waits is
bounded: statuses by the number of models (the latest of each), samples, log lines and crashes each by a
count, beyond which the oldest give way to the newest; the banner says how many gave way.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import AsyncIterator, Collection
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime
from itertools import islice
from typing import TypeVar

from db.crash_record import CrashRecord
from db.host_record import HostRow, insert_host_samples
from db.log_record import insert_log_lines
from db.metric_record import SampleRow, insert_samples
from db.model_record import ModelRecord
from db.writes import DatabaseWriteError, writing
from protocol.messages import HostSample, LogLine, MetricsSample
from store.database_health import DatabaseHealth
from store.model_state import StatusChange
from store.supervised import in_background

log = logging.getLogger(__name__)

RETRY_INTERVAL = 2.0  # seconds between tries while the database refuses writes
LOG_ROWS_PER_STATEMENT = 100  # a slice converts in about 0.2 ms: the loop gets a turn between slices


T = TypeVar("T")


@dataclass(frozen=True)
class Bounds:
    """How much waits in memory while the database refuses writes (about 200 MiB at most, all full)."""

    samples: int = 100_000  # each of metrics and host samples: a day of one model's figures at 1 s
    log_lines: int = 200_000
    crashes: int = 10_000


@dataclass
class PendingWrites:
    bounds: Bounds
    statuses: dict[str, StatusChange] = field(default_factory=dict)  # the latest per model wins
    samples: deque[tuple[str, MetricsSample]] = field(init=False)
    host_samples: deque[HostSample] = field(init=False)
    log_lines: deque[tuple[str, LogLine]] = field(init=False)
    crashes: deque[tuple[str, datetime, StatusChange]] = field(init=False)
    dropped: int = 0  # samples, log lines and crashes that gave way to newer ones

    def __post_init__(self) -> None:
        self.samples = deque(maxlen=self.bounds.samples)
        self.host_samples = deque(maxlen=self.bounds.samples)
        self.log_lines = deque(maxlen=self.bounds.log_lines)
        self.crashes = deque(maxlen=self.bounds.crashes)

    def __bool__(self) -> bool:
        return bool(self.statuses or self.samples or self.host_samples or self.log_lines or self.crashes)

    def push(self, queue: deque[T], item: T) -> None:
        """Append; a full queue drops its oldest (counted)."""
        if len(queue) == queue.maxlen:
            self.dropped += 1
        queue.append(item)

    def extend(self, queue: deque[T], items: Collection[T]) -> None:
        """Append all; a full queue drops its oldest (counted)."""
        self.dropped += max(0, len(queue) + len(items) - (queue.maxlen or 0))
        queue.extend(items)

    def absorb(self, newer: PendingWrites) -> None:
        """Put what arrived after this batch behind it (the batch failed and waits for the next try)."""
        self.statuses.update(newer.statuses)
        self.dropped += newer.dropped
        self.extend(self.samples, newer.samples)
        self.extend(self.host_samples, newer.host_samples)
        self.extend(self.log_lines, newer.log_lines)
        self.extend(self.crashes, newer.crashes)


class Journal:
    def __init__(self, flush_interval: float = 0.2, bounds: Bounds | None = None,
                 health: DatabaseHealth | None = None) -> None:
        self.flush_interval = flush_interval
        self.bounds = bounds or Bounds()
        self.health = health or DatabaseHealth()  # the banner's: how many live updates gave way meanwhile
        self.failing = False  # the last batch was refused: wait RETRY_INTERVAL before the next try
        self.pending = PendingWrites(self.bounds)
        self._wake = asyncio.Event()
        self._flushing = asyncio.Lock()

    # ---- what the deck hands in (synchronous, in the order things happened) -------------------

    def status(self, uid: str, change: StatusChange) -> None:
        self.pending.statuses[uid] = change
        self._wake.set()

    def crash(self, uid: str, at: datetime, change: StatusChange) -> None:
        self.pending.push(self.pending.crashes, (uid, at, change))
        self._wake.set()

    def sample(self, uid: str, sample: MetricsSample) -> None:
        self.pending.push(self.pending.samples, (uid, sample))
        self._wake.set()

    def host_sample(self, sample: HostSample) -> None:
        self.pending.push(self.pending.host_samples, sample)
        self._wake.set()

    def log_lines(self, uid: str, lines: list[LogLine]) -> None:
        self.pending.extend(self.pending.log_lines, [(uid, line) for line in lines])
        self._wake.set()

    # ---- writing behind -----------------------------------------------------------------------

    async def flush(self) -> None:
        """Write everything pending in one transaction; on failure keep it for the next try."""
        async with self._flushing:  # one transaction at a time, in order
            await self._flush_pending()

    async def _flush_pending(self) -> None:
        if not self.pending:
            return
        batch, self.pending = self.pending, PendingWrites(self.bounds)
        try:
            async with writing() as connection:
                for uid, change in batch.statuses.items():
                    await ModelRecord.filter(uid=uid).using_db(connection).update(
                        status=change.status, exit_code=change.exit_code, reason=change.reason,
                        last_lines=list(change.last_lines))
                await insert_samples(connection, [_sample_row(uid, s) for uid, s in batch.samples])
                await insert_host_samples(connection, [_host_row(s) for s in batch.host_samples])
                # In slices: converting a burst's thousands of rows at once would hold the event loop.
                lines = iter(batch.log_lines)
                while chunk := list(islice(lines, LOG_ROWS_PER_STATEMENT)):
                    await insert_log_lines(connection, [(uid, line.at, line.level, line.text) for uid, line in chunk])
                if batch.crashes:
                    await CrashRecord.bulk_create([
                        CrashRecord(uid=uid, at=at, exit_code=change.exit_code, reason=change.reason,
                                    last_lines=list(change.last_lines)) for uid, at, change in batch.crashes],
                        using_db=connection)
        except DatabaseWriteError as exc:
            log.warning("journal: %s; will retry", exc)
            self.failing = True
            batch.absorb(self.pending)
            self.pending = batch
            self.health.dropped = batch.dropped
            self._wake.set()  # try again after the next interval, even if nothing new arrives
            return
        if batch.dropped:
            log.warning("journal: written again; %d older samples, log lines or crashes gave way while it could not",
                        batch.dropped)
        self.failing = False
        self.health.dropped = 0

    async def write_behind(self) -> None:
        """The flushing task: wakes on new data, then waits the flush interval to gather a batch."""
        try:
            while True:
                await self._wake.wait()
                self._wake.clear()
                await asyncio.sleep(RETRY_INTERVAL if self.failing else self.flush_interval)
                # Shielded: cancelling the task must not roll back a batch already taken from `pending`.
                await asyncio.shield(self.flush())
        finally:
            await asyncio.shield(self.flush())  # nothing handed in is lost at shutdown

    @asynccontextmanager
    async def writing_behind(self) -> AsyncIterator[None]:
        """While open (the database must be open first), pending writes go out every flush interval."""
        async with in_background("journal writer", self.write_behind):
            yield


def _sample_row(uid: str, sample: MetricsSample) -> SampleRow:
    return (uid, sample.at, sample.tokens_per_second, sample.prompt_tokens_per_second, sample.requests_processing,
            sample.busy_slots, sample.tokens_predicted_total, sample.rss_bytes, sample.cpu_percent, sample.vram_bytes)


def _host_row(sample: HostSample) -> HostRow:
    gpus = sample.gpu_totals()
    return (sample.at, sample.cpu_percent, sample.ram_used_bytes, sample.ram_total_bytes, sample.disk_used_bytes,
            sample.disk_total_bytes, gpus.utilization_percent, gpus.memory_used_bytes, gpus.memory_total_bytes,
            gpus.temperature_c, gpus.power_watts)
