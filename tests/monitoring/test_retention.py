"""Retention on a real SQLite file with synthetic timestamps: recent samples stay raw, older ones
become one averaged row a minute, and everything past the maximum age goes."""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator
from contextlib import closing
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from db.database import open_database
from db.host_record import insert_host_samples
from db.log_record import insert_log_lines
from db.metric_record import insert_samples
from db.writes import writing
from store.retention import Retention, RetentionPolicy

NOW = datetime(2026, 11, 26, 12, 0, 30, tzinfo=UTC)
UID = "a" * 32


@pytest.fixture
async def db_file(tmp_path: Path) -> AsyncIterator[Path]:
    path = tmp_path / "history.sqlite3"
    async with open_database(path):
        yield path


def seconds(start: datetime, count: int) -> list[datetime]:
    return [start + timedelta(seconds=n) for n in range(count)]


async def write_samples(moments: list[datetime]) -> None:
    async with writing() as connection:
        # tokens/s is the second within the minute: a minute's average is 29.5
        await insert_samples(connection, [(UID, at, float(at.second), None, at.second % 3, None, n, 1000, None, None)
                                          for n, at in enumerate(moments)])
        await insert_host_samples(connection, [(at, float(at.second), 50, 100, None, None, None, None, None,
                                                None, None) for at in moments])


def rows(path: Path, sql: str) -> list[tuple]:
    with closing(sqlite3.connect(path)) as db:
        return db.execute(sql).fetchall()


async def test_recent_samples_stay_raw_older_become_minute_averages_and_the_oldest_go(db_file: Path) -> None:
    recent = seconds(NOW - timedelta(minutes=30), 30 * 60)
    two_hours_ago = seconds(datetime(2026, 11, 26, 10, 0, tzinfo=UTC), 10 * 60)  # ten whole minutes
    eight_days_ago = seconds(NOW - timedelta(days=8), 120)
    await write_samples(eight_days_ago + two_hours_ago + recent)
    retention = Retention(RetentionPolicy(), clock=lambda: NOW)

    done = await retention.run_once()

    for table, value in (("metric_sample", "tokens_per_second"), ("host_sample", "cpu_percent")):
        old = rows(db_file, f"SELECT at, {value} FROM {table} WHERE at < '2026-11-26 11:00' ORDER BY at")
        assert [at for at, _ in old] == [f"2026-11-26 10:{m:02d}:00+00:00" for m in range(10)]
        assert {average for _, average in old} == {29.5}
        assert rows(db_file, f"SELECT count(*) FROM {table} WHERE at >= '2026-11-26 11:00'") == [(30 * 60,)]
        assert rows(db_file, f"SELECT count(*) FROM {table} WHERE at < '2026-11-20'") == [(0,)]
    # whole-number columns stay whole; a counter keeps its latest value
    assert rows(db_file, "SELECT requests_processing, tokens_predicted_total, rss_bytes FROM metric_sample "
                         "WHERE at = '2026-11-26 10:00:00+00:00'") == [(1, 179, 1000)]
    assert done.downsampled == 2 * 600 and done.removed == 2 * 120
    assert (await retention.run_once()).downsampled == 0
    assert (await Retention(clock=lambda: NOW).run_once()).downsampled == 0  # a fresh start finds nothing to redo


async def test_log_lines_are_capped_per_model_and_by_age(db_file: Path) -> None:
    other = "b" * 32
    async with writing() as connection:
        await insert_log_lines(connection, [(UID, NOW - timedelta(days=9), "I", "ancient")])
        await insert_log_lines(connection, [(uid, NOW, "I", f"{uid[0]} line {n}") for uid in (UID, other)
                                            for n in range(15)])
    await Retention(RetentionPolicy(log_lines_per_model=10), clock=lambda: NOW).run_once()
    kept = rows(db_file, "SELECT text FROM log_line ORDER BY id")
    assert [text for (text,) in kept] == [f"{u} line {n}" for u in "ab" for n in range(5, 15)]
