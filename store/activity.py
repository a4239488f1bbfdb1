"""The gateway's activity: every request it answered, live for the Activity page and written behind to SQLite.

Recording costs an append; a background task writes what gathered in one transaction per interval (never
one per request), and keeps it for the next try while the database refuses writes. The history obeys the
same retention as the rest (store/retention.py).
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass, fields
from datetime import datetime
from operator import attrgetter

from nicegui import Event

from db.activity_record import COLUMNS, ActivityRecord, insert_activity
from db.writes import DatabaseWriteError, writing
from store.supervised import in_background

log = logging.getLogger(__name__)

RECENT_KEPT = 2000  # in memory, for the page; the database has the rest
PENDING_MAX = 100_000  # while the database refuses writes; beyond this the oldest unsaved go
FLUSH_INTERVAL_S = 1.0


@dataclass(frozen=True)
class ActivityEntry:
    at: datetime
    key_name: str
    model: str
    uid: str | None
    route: str
    status: int
    prompt_tokens: int | None
    completion_tokens: int | None
    cached_tokens: int | None
    ttft_ms: float | None
    duration_ms: float
    tokens_per_second: float | None
    error: str | None


assert tuple(f.name for f in fields(ActivityEntry)) == COLUMNS  # one order for the row, the table and the CSV
# The row of an entry, its fields as they are: dataclasses.astuple deep-copies each one (29 us an entry, 0.3 here),
# which at a few hundred requests a second held the event loop for milliseconds at every flush.
_row = attrgetter(*COLUMNS)


@dataclass(frozen=True)
class ActivityFilter:
    model: str | None = None
    key_name: str | None = None
    status: str | None = None  # "2xx", "4xx", "5xx" or an exact status such as "404"

    def matches(self, entry: ActivityEntry) -> bool:
        return ((self.model is None or entry.model == self.model)
                and (self.key_name is None or entry.key_name == self.key_name)
                and (self.status is None or _status_matches(self.status, entry.status)))


def _status_matches(wanted: str, status: int) -> bool:
    if wanted.endswith("xx"):
        return str(status)[0] == wanted[0]
    return str(status) == wanted


class Activity:
    def __init__(self, flush_interval_s: float = FLUSH_INTERVAL_S) -> None:
        self.recent: deque[ActivityEntry] = deque(maxlen=RECENT_KEPT)
        self.arrived: Event[ActivityEntry] = Event()
        self.flush_interval_s = flush_interval_s
        self._pending: deque[ActivityEntry] = deque(maxlen=PENDING_MAX)
        self.unsaved_dropped = 0  # requests that gave way to newer ones while the database refused writes
        self._wake = asyncio.Event()
        self._flushing = asyncio.Lock()

    def record(self, entry: ActivityEntry) -> None:
        if len(self._pending) == self._pending.maxlen:
            self.unsaved_dropped += 1
        self.recent.append(entry)
        self._pending.append(entry)
        self._wake.set()
        self.arrived.emit(entry)

    async def load(self) -> None:
        """The newest requests from before a restart, for the page."""
        rows = await ActivityRecord.all().order_by("-id").limit(RECENT_KEPT).values_list(*COLUMNS)
        self.recent = deque((ActivityEntry(*row) for row in reversed(rows)), maxlen=RECENT_KEPT)

    async def flush(self) -> None:
        async with self._flushing:
            batch = list(self._pending)
            if not batch:
                return
            self._pending.clear()
            try:
                async with writing() as connection:
                    await insert_activity(connection, [_row(entry) for entry in batch])
            except DatabaseWriteError as exc:
                log.warning("activity: %s; will retry", exc)
                self._put_back(batch)
                raise

    def _put_back(self, batch: list[ActivityEntry]) -> None:
        """The refused batch goes before what arrived meanwhile; beyond the bound its oldest give way."""
        arrived = self._pending
        self._pending = deque(batch, maxlen=arrived.maxlen)
        self._pending.extend(arrived)
        gave_way = len(batch) + len(arrived) - len(self._pending)
        if gave_way:
            self.unsaved_dropped += gave_way
            log.warning("activity: %d unsaved requests gave way to newer ones (%d in all)", gave_way,
                        self.unsaved_dropped)

    async def write_behind(self) -> None:
        try:
            while True:
                await self._wake.wait()
                self._wake.clear()
                await asyncio.sleep(self.flush_interval_s)  # gathers a batch: one transaction per interval
                try:
                    await asyncio.shield(self.flush())
                except DatabaseWriteError:
                    self._wake.set()
        finally:
            try:
                await asyncio.shield(self.flush())  # nothing recorded is lost at shutdown
            except DatabaseWriteError:
                pass

    async def stored(self, wanted: ActivityFilter) -> list[ActivityEntry]:
        """Every stored request that matches, oldest first (for a download); what is pending is written first."""
        await self.flush()
        query = ActivityRecord.all()
        if wanted.model is not None:
            query = query.filter(model=wanted.model)
        if wanted.key_name is not None:
            query = query.filter(key_name=wanted.key_name)
        rows = await query.order_by("id").values_list(*COLUMNS)
        return [entry for entry in (ActivityEntry(*row) for row in rows) if wanted.matches(entry)]


def as_csv_rows(entries: Iterable[ActivityEntry]) -> list[list[object]]:
    return [list(COLUMNS), *([getattr(entry, name) for name in COLUMNS] for entry in entries)]


@asynccontextmanager
async def recording(activity: Activity) -> AsyncIterator[Activity]:
    """The write-behind task while open (the database must be open first)."""
    await activity.load()
    async with in_background("activity writer", activity.write_behind):
        yield activity
