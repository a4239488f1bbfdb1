"""LiveSync: merges runner events into the store at once and into SQLite in batches.

Events are applied to the bindable state synchronously (every browser sees them on the next
update cycle); database writes are coalesced: one transaction per flush interval carries the
latest status of each changed model and every metrics sample since the last flush. A burst of
events therefore costs a few transactions, never one per event, and never blocks the loop.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field

from db.metric_record import SampleRow, insert_samples
from db.model_record import ModelRecord
from db.writes import DatabaseWriteError, writing
from protocol import ModelStatus
from protocol.messages import (
    Event,
    HostEvent,
    HostSample,
    LogEvent,
    MetricsEvent,
    MetricsSample,
    ProcessState,
    SnapshotEvent,
    StatusEvent,
)
from store.deck import ModelDeck, StatusChange

log = logging.getLogger(__name__)

ACTIVE = {ModelStatus.STARTING, ModelStatus.RUNNING, ModelStatus.STOPPING}


@dataclass
class PendingWrites:
    statuses: dict[str, StatusChange] = field(default_factory=dict)  # the latest per model wins
    samples: list[tuple[str, MetricsSample]] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.statuses or self.samples)


class LiveSync:
    def __init__(self, deck: ModelDeck, flush_interval: float = 0.2, max_pending_samples: int = 100_000) -> None:
        self.deck = deck
        self.flush_interval = flush_interval
        self.max_pending_samples = max_pending_samples
        self.pending = PendingWrites()
        self.host: HostSample | None = None
        self._wake = asyncio.Event()
        self._flushing = asyncio.Lock()
        self.flushes = 0

    # ---- applying events (synchronous: called by the feed for each event in order) ----------

    def apply(self, event: Event) -> None:
        if isinstance(event, SnapshotEvent):
            self._apply_snapshot(event)
        elif isinstance(event, StatusEvent):
            self._apply_process(event.process)
        elif isinstance(event, MetricsEvent):
            self._apply_metrics(event.uid, event.sample)
        elif isinstance(event, HostEvent):
            self.host = event.sample
        elif isinstance(event, LogEvent):
            self.deck.logs_arrived(event.uid, event.lines)

    def _apply_snapshot(self, snapshot: SnapshotEvent) -> None:
        if snapshot.host is not None:
            self.host = snapshot.host
        known = set()
        for process in snapshot.processes:
            known.add(process.uid)
            self._apply_process(process)
        for state in self.deck.models.values():
            # After a runner restart it no longer knows this model: it is not running, whatever we last saw.
            if state.uid not in known and state.status in ACTIVE:
                self._record_status(state.uid, StatusChange(ModelStatus.STOPPED))

    def _apply_process(self, process: ProcessState) -> None:
        if process.uid not in self.deck.models:
            return  # a model another dashboard configured, or one deleted here meanwhile
        state = self.deck.models[process.uid]
        state.port, state.pid = process.port, process.pid
        self._record_status(process.uid, StatusChange(process.status, process.exit_code, process.reason,
                                                      tuple(process.last_lines)))
        if process.metrics is not None:
            self._apply_metrics(process.uid, process.metrics)

    def _record_status(self, uid: str, change: StatusChange) -> None:
        self.deck.show_status(uid, change)
        self.pending.statuses[uid] = change
        self._wake.set()

    def _apply_metrics(self, uid: str, sample: MetricsSample) -> None:
        state = self.deck.models.get(uid)
        if state is None:
            return
        state.figures = sample
        if len(self.pending.samples) < self.max_pending_samples:  # bounded if the database is down
            self.pending.samples.append((uid, sample))
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
        except DatabaseWriteError as exc:
            log.warning("live sync: %s; will retry", exc)
            self.deck.report_db_problem(str(exc))
            batch.statuses.update(self.pending.statuses)
            batch.samples.extend(self.pending.samples)
            self.pending = batch
            return
        self.deck.report_db_problem(None)
        self.flushes += 1

    async def write_behind(self) -> None:
        """The flushing task: wakes on new data, then waits the flush interval to gather a batch."""
        try:
            while True:
                await self._wake.wait()
                self._wake.clear()
                await asyncio.sleep(self.flush_interval)
                # Shielded: cancelling the task must not roll back a batch already taken from `pending`.
                await asyncio.shield(self.flush())
        finally:
            await asyncio.shield(self.flush())  # nothing applied is lost at shutdown


def _sample_row(uid: str, sample: MetricsSample) -> SampleRow:
    return (uid, sample.at, sample.tokens_per_second, sample.prompt_tokens_per_second, sample.requests_processing,
            sample.busy_slots, sample.tokens_predicted_total, sample.rss_bytes, sample.cpu_percent, sample.vram_bytes)
