"""The journal: what the deck hands it, written behind to SQLite in batches.

The deck changes the in-memory state at once (every browser sees it on the next update) and hands
the journal what must survive a restart; it never touches a ModelState. Writes are coalesced: one
transaction per flush interval carries the latest status of each changed model, every metrics and
host sample and log line since the last flush, and a crash row for each crash. A burst of events
therefore costs a few transactions, never one per event, and never blocks the loop. A batch that
fails, for whatever reason, is kept (bounded) for the next try; writing() reports why to the banner.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime

from db.crash_record import CrashRecord
from db.host_record import HostRow, insert_host_samples
from db.log_record import insert_log_lines
from db.metric_record import SampleRow, insert_samples
from db.model_record import ModelRecord
from db.writes import DatabaseWriteError, writing
from protocol.messages import HostSample, LogLine, MetricsSample
from store.model_state import StatusChange
from store.supervised import in_background

log = logging.getLogger(__name__)

RETRY_INTERVAL = 2.0  # seconds between tries while the database refuses writes
LOG_ROWS_PER_STATEMENT = 500


@dataclass
class PendingWrites:
    statuses: dict[str, StatusChange] = field(default_factory=dict)  # the latest per model wins
    samples: list[tuple[str, MetricsSample]] = field(default_factory=list)
    host_samples: list[HostSample] = field(default_factory=list)
    log_lines: list[tuple[str, LogLine]] = field(default_factory=list)
    crashes: list[tuple[str, datetime, StatusChange]] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.statuses or self.samples or self.host_samples or self.log_lines or self.crashes)

    def absorb(self, newer: PendingWrites) -> None:
        """Put what arrived after this batch behind it (the batch failed and waits for the next try)."""
        self.statuses.update(newer.statuses)
        self.samples.extend(newer.samples)
        self.host_samples.extend(newer.host_samples)
        self.log_lines.extend(newer.log_lines)
        self.crashes.extend(newer.crashes)


class Journal:
    def __init__(self, flush_interval: float = 0.2, max_pending_samples: int = 100_000,
                 max_pending_log_lines: int = 200_000, max_pending_crashes: int = 10_000) -> None:
        self.flush_interval = flush_interval
        self.max_pending_samples = max_pending_samples  # each of metrics and host samples
        self.max_pending_log_lines = max_pending_log_lines
        self.max_pending_crashes = max_pending_crashes
        self.failing = False  # the last batch was refused: wait RETRY_INTERVAL before the next try
        self.pending = PendingWrites()
        self._wake = asyncio.Event()
        self._flushing = asyncio.Lock()

    # ---- what the deck hands in (synchronous, in the order things happened) -------------------

    def status(self, uid: str, change: StatusChange) -> None:
        self.pending.statuses[uid] = change
        self._wake.set()

    def crash(self, uid: str, at: datetime, change: StatusChange) -> None:
        if len(self.pending.crashes) < self.max_pending_crashes:
            self.pending.crashes.append((uid, at, change))
        self._wake.set()

    def sample(self, uid: str, sample: MetricsSample) -> None:
        if len(self.pending.samples) < self.max_pending_samples:  # bounded if the database is down
            self.pending.samples.append((uid, sample))
        self._wake.set()

    def host_sample(self, sample: HostSample) -> None:
        if len(self.pending.host_samples) < self.max_pending_samples:
            self.pending.host_samples.append(sample)
        self._wake.set()

    def log_lines(self, uid: str, lines: list[LogLine]) -> None:
        room = self.max_pending_log_lines - len(self.pending.log_lines)
        self.pending.log_lines.extend((uid, line) for line in lines[:max(room, 0)])
        self._wake.set()

    # ---- writing behind -----------------------------------------------------------------------

    async def flush(self) -> None:
        """Write everything pending in one transaction; on failure keep it for the next try."""
        async with self._flushing:  # one transaction at a time, in order
            await self._flush_pending()

    async def _flush_pending(self) -> None:
        if not self.pending:
            return
        batch, self.pending = self.pending, PendingWrites()
        try:
            async with writing() as connection:
                for uid, change in batch.statuses.items():
                    await ModelRecord.filter(uid=uid).using_db(connection).update(
                        status=change.status, exit_code=change.exit_code, reason=change.reason,
                        last_lines=list(change.last_lines))
                await insert_samples(connection, [_sample_row(uid, s) for uid, s in batch.samples])
                await insert_host_samples(connection, [_host_row(s) for s in batch.host_samples])
                # In slices: converting a burst's thousands of rows at once would hold the event loop.
                for start in range(0, len(batch.log_lines), LOG_ROWS_PER_STATEMENT):
                    await insert_log_lines(connection, [(uid, line.at, line.level, line.text) for uid, line
                                                        in batch.log_lines[start:start + LOG_ROWS_PER_STATEMENT]])
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
            self._wake.set()  # try again after the next interval, even if nothing new arrives
            return
        self.failing = False

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
