"""LiveSync: merges runner events into the store at once and into SQLite in batches.

Events are applied to the bindable state synchronously (every browser sees them on the next
update cycle); database writes are coalesced: one transaction per flush interval carries the
latest status of each changed model, every metrics and host sample and log line since the last
flush, and a crash row for each model that ended in error. A burst of
events therefore costs a few transactions, never one per event, and never blocks the loop.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime

from db.crash_record import CrashRecord
from db.host_record import HostRow, insert_host_samples
from db.log_record import insert_log_lines
from db.metric_record import SampleRow, insert_samples
from db.model_record import ModelRecord
from db.writes import DatabaseWriteError, writing
from protocol import ModelStatus
from protocol.messages import (
    Event,
    HostSample,
    LogLine,
    MetricsSample,
    ProcessState,
    SnapshotEvent,
)
from store.deck import ModelDeck, StatusChange
from store.model_state import ModelState

log = logging.getLogger(__name__)

RETRY_INTERVAL = 2.0  # seconds between tries while the database refuses writes

ACTIVE = {ModelStatus.STARTING, ModelStatus.RUNNING, ModelStatus.STOPPING}
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


class LiveSync:
    def __init__(self, deck: ModelDeck, flush_interval: float = 0.2, max_pending_samples: int = 100_000,
                 max_pending_log_lines: int = 200_000) -> None:
        self.deck = deck
        self.flush_interval = flush_interval
        self.max_pending_samples = max_pending_samples  # each of metrics and host samples
        self.max_pending_log_lines = max_pending_log_lines
        self.pending = PendingWrites()
        self._wake = asyncio.Event()
        self._flushing = asyncio.Lock()
        self._figures_due: dict[str, MetricsSample] = {}

    # ---- applying events (synchronous: called by the feed for each event in order) ----------

    def apply(self, event: Event) -> None:
        # Metrics come first and by their tag: this runs for every event of a busy feed.
        if event.type == "metrics":
            self._apply_metrics(event.uid, event.sample)
        elif event.type == "log":
            self._apply_logs(event.uid, event.lines)
        elif event.type == "host":
            self._apply_host(event.sample)
        elif event.type == "status":
            self._apply_process(event.process)
        elif event.type == "server":
            self.deck.link.server.arrived(event.info)
        else:
            self._apply_snapshot(event)

    def _apply_snapshot(self, snapshot: SnapshotEvent) -> None:
        self.deck.link.server.arrived(snapshot.server)
        if snapshot.host is not None:
            self._apply_host(snapshot.host)
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
        state.port, state.pid, state.placement = process.port, process.pid, process.placement
        state.server_key = process.api_key
        self._record_status(process.uid, StatusChange(process.status, process.exit_code, process.reason,
                                                      tuple(process.last_lines)))
        if process.metrics is not None:
            self._apply_metrics(process.uid, process.metrics)

    def _record_status(self, uid: str, change: StatusChange) -> None:
        if _is_new_crash(self.deck.models.get(uid), change):
            self.pending.crashes.append((uid, datetime.now(UTC), change))
        self.deck.show_status(uid, change)
        self.deck.monitor.recount(self.deck.models.values())
        self.pending.statuses[uid] = change
        self._wake.set()

    def _apply_metrics(self, uid: str, sample: MetricsSample) -> None:
        if uid not in self.deck.models:
            return
        if not self._figures_due:
            asyncio.get_running_loop().call_soon(self._show_figures)
        self._figures_due[uid] = sample
        if len(self.pending.samples) < self.max_pending_samples:  # bounded if the database is down
            self.pending.samples.append((uid, sample))
        self._wake.set()

    def _show_figures(self) -> None:
        """The latest sample of each model, once per turn of the event loop.

        A frame usually carries one sample and is shown on the very next turn; in a burst, the
        browsers get the newest figures once instead of every intermediate one (every sample is
        still written to the history).
        """
        due, self._figures_due = self._figures_due, {}
        for uid, sample in due.items():
            state = self.deck.models.get(uid)
            if state is not None and state.status is ModelStatus.RUNNING:
                before, state.figures = state.figures, sample
                self.deck.monitor.model_arrived(uid, before, sample)

    def _apply_host(self, sample: HostSample) -> None:
        self.deck.monitor.host_arrived(sample)
        if len(self.pending.host_samples) < self.max_pending_samples:
            self.pending.host_samples.append(sample)
        self._wake.set()

    def _apply_logs(self, uid: str, lines: list[LogLine]) -> None:
        self.deck.logs_arrived(uid, lines)
        if uid in self.deck.models:
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
            log.warning("live sync: %s; will retry", exc)
            self.deck.report_db_problem(str(exc))
            batch.absorb(self.pending)
            self.pending = batch
            self._wake.set()  # try again after the next interval, even if nothing new arrives
            return
        self.deck.report_db_problem(None)

    async def write_behind(self) -> None:
        """The flushing task: wakes on new data, then waits the flush interval to gather a batch."""
        try:
            while True:
                await self._wake.wait()
                self._wake.clear()
                await asyncio.sleep(self.flush_interval if self.deck.database.problem is None else RETRY_INTERVAL)
                # Shielded: cancelling the task must not roll back a batch already taken from `pending`.
                await asyncio.shield(self.flush())
        finally:
            await asyncio.shield(self.flush())  # nothing applied is lost at shutdown


def _sample_row(uid: str, sample: MetricsSample) -> SampleRow:
    return (uid, sample.at, sample.tokens_per_second, sample.prompt_tokens_per_second, sample.requests_processing,
            sample.busy_slots, sample.tokens_predicted_total, sample.rss_bytes, sample.cpu_percent, sample.vram_bytes)


def _is_new_crash(state: ModelState | None, change: StatusChange) -> bool:
    """An error with an exit code that the model is not already showing (a snapshot repeats it)."""
    if state is None or change.status is not ModelStatus.ERROR or change.exit_code is None:
        return False
    return (state.status, state.exit_code, state.reason) != (change.status, change.exit_code, change.reason)


def _host_row(sample: HostSample) -> HostRow:
    gpus = sample.gpus
    utilisations = [g.utilization_percent for g in gpus if g.utilization_percent is not None]
    used = [g.memory_used_bytes for g in gpus if g.memory_used_bytes is not None]
    total = [g.memory_total_bytes for g in gpus if g.memory_total_bytes is not None]
    temperatures = [g.temperature_c for g in gpus if g.temperature_c is not None]
    power = [g.power_watts for g in gpus if g.power_watts is not None]
    return (sample.at, sample.cpu_percent, sample.ram_used_bytes, sample.ram_total_bytes, sample.disk_used_bytes,
            sample.disk_total_bytes, sum(utilisations) / len(utilisations) if utilisations else None,
            sum(used) if used else None, sum(total) if total else None,
            max(temperatures) if temperatures else None, sum(power) if power else None)
