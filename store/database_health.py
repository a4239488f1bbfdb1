"""How writing to the database stands, for the banner on every page, and what the app does about a database
file that vanished while it ran.

Every write reports its outcome (`db.writes.report_outcomes`): a refusal, whatever its cause, is shown
until a write goes through again. The file itself is checked every second: one deleted under the
running app is written back from what SQLite still holds open (`db.recovery`), and the banner says so.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

from nicegui import binding

from db.recovery import rewrite_deleted_file
from db.writes import DatabaseWriteError, plain_reason, report_outcomes, watched_file

log = logging.getLogger(__name__)

CHECK_INTERVAL_S = 1.0


@binding.bindable_dataclass
class DatabaseHealth:
    """Assigning a field updates every open page; an unchanged value reaches no browser."""

    problem: str | None = None  # why writes are refused right now
    notice: str | None = None  # what the app did about its database that a person should know
    dropped: int = 0  # live updates that gave way to newer ones while writes were refused (the journal's bounds)

    def outcome(self, refusal: DatabaseWriteError | None) -> None:
        self.problem = None if refusal is None else str(refusal)


@contextmanager
def reporting_writes(health: DatabaseHealth) -> Iterator[None]:
    """While open, every write's outcome reaches `health`."""
    report_outcomes(health.outcome)
    try:
        yield
    finally:
        report_outcomes(None)


async def watch_file(health: DatabaseHealth, interval_s: float = CHECK_INTERVAL_S) -> None:
    """Until cancelled: a database file deleted meanwhile is recreated from the open database."""
    while True:
        path = watched_file()
        if path is not None and not path.exists():
            await _recreate(health, path)
        await asyncio.sleep(interval_s)  # pacing: one stat a second costs nothing


async def _recreate(health: DatabaseHealth, path: Path) -> None:
    try:
        await rewrite_deleted_file(path)
    except (sqlite3.Error, OSError) as exc:
        problem = f"the database file {path} was deleted and could not be recreated yet: {plain_reason(exc)}"
        if health.problem != problem:
            log.error("%s; trying again", problem)
        health.problem = problem
        return
    at = datetime.now().astimezone()
    log.warning("the database file %s was deleted while ModelDeck ran; recreated from the open database", path)
    health.problem = None
    health.notice = (f"The database file {path} was deleted while ModelDeck ran; it was recreated at {at:%H:%M:%S} "
                     "from what ModelDeck still held: every configuration, account and history is kept.")
