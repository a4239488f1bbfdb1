"""The gateway's activity log on a real filesystem that fills up: the refusal shows as the database's health, no
request is lost and the writer keeps running, and the rows are written once space is freed."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Iterator
from contextlib import closing
from datetime import UTC, datetime
from pathlib import Path

import pytest

from db.database import open_database
from db.writes import DatabaseWriteError
from store.activity import Activity, ActivityEntry, recording
from store.database_health import DatabaseHealth, reporting_writes
from tests.faults import SmallFilesystem, small_filesystem
from tests.waiting import until


@pytest.fixture
def small_fs(tmp_path: Path) -> Iterator[SmallFilesystem]:
    with small_filesystem(tmp_path / "small") as fs:
        yield fs


def a_request(n: int) -> ActivityEntry:
    # ~1 kB of error text each: a few hundred need new pages, which a full disk refuses
    return ActivityEntry(at=datetime.now(UTC), key_name="ide", model="tiny", uid=None, route="/v1/chat/completions",
                         status=502, prompt_tokens=None, completion_tokens=None, cached_tokens=None, ttft_ms=None,
                         duration_ms=1.0, tokens_per_second=None, error=f"{n} " + "x" * 1000)


def stored_requests(path: Path) -> int:
    with closing(sqlite3.connect(path)) as db:
        return int(db.execute("SELECT count(*) FROM gateway_request").fetchone()[0])


async def test_a_full_disk_refuses_activity_writes_visibly_and_they_are_written_once_freed(
        small_fs: SmallFilesystem) -> None:
    path = small_fs.path / "modeldeck.sqlite3"
    health = DatabaseHealth()
    activity = Activity(flush_interval_s=0.05)
    with reporting_writes(health):
        async with open_database(path), recording(activity):
            small_fs.fill()
            for n in range(300):
                activity.record(a_request(n))
            await until(lambda: health.problem is not None, message="the refusal shown")
            assert "full" in (health.problem or "")
            assert stored_requests(path) == 0 and len(activity.recent) == 300  # the page still lists them

            small_fs.free()
            await until(lambda: stored_requests(path) == 300, message="the kept requests written once freed")
            # The rows are visible once committed, a moment before the write's outcome reaches `health`.
            await until(lambda: health.problem is None, message="the refusal gone once the write went through")
            activity.record(a_request(300))  # the writer is still there
            await until(lambda: stored_requests(path) == 301, message="a later request written")


async def test_requests_beyond_the_bound_while_refused_drop_the_oldest_and_keep_the_newest(
        small_fs: SmallFilesystem, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("store.activity.PENDING_MAX", 100)
    path = small_fs.path / "modeldeck.sqlite3"
    health = DatabaseHealth()
    activity = Activity(flush_interval_s=3600)  # this test decides when to write
    with reporting_writes(health):
        async with open_database(path), recording(activity):
            small_fs.fill()
            for n in range(100):
                activity.record(a_request(n))
            refused = asyncio.create_task(activity.flush())
            await asyncio.sleep(0)  # one turn of the loop: the flush takes its batch and waits on the database
            assert not activity._pending and not refused.done()
            for n in range(100, 150):
                activity.record(a_request(n))  # arrive while the database refuses the batch
            with pytest.raises(DatabaseWriteError):
                await refused

            small_fs.free()
            await activity.flush()
            assert stored_errors(path) == list(range(50, 150))  # the newest hundred, in order
            assert activity.unsaved_dropped == 50


def stored_errors(path: Path) -> list[int]:
    with closing(sqlite3.connect(path)) as db:
        return [int(error.split()[0]) for (error,) in db.execute("SELECT error FROM gateway_request ORDER BY id")]
