"""Live updates that arrive while the database cannot be written (a real full filesystem) wait in memory within
the journal's bounds: every status and crash is written once space is freed, the samples and log lines beyond
the bound drop their oldest, and the banner's health says how many gave way."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

import store.journal
from db.model_record import ModelRecord
from protocol import ModelConfig, ModelStatus
from protocol.messages import LogEvent, LogLine, MetricsEvent, MetricsSample, ProcessState, StatusEvent
from store.database_health import reporting_writes
from store.deck import ModelDeck
from store.journal import Bounds, Journal
from tests.faults import SmallFilesystem
from tests.waiting import until

BOUNDS = Bounds(samples=40, log_lines=60, crashes=100)
CRASHES = 5  # each model: started, ran, crashed, CRASHES times
SAMPLES = 3 * BOUNDS.samples
LINES = 3 * BOUNDS.log_lines


def query(path: Path, sql: str) -> list[tuple[object, ...]]:
    with closing(sqlite3.connect(path)) as db:
        return db.execute(sql).fetchall()


def status(seq: int, config: ModelConfig, to: ModelStatus, exit_code: int | None = None) -> StatusEvent:
    return StatusEvent(seq=seq, process=ProcessState(uid=config.uid, name=config.name, status=to,
                                                      exit_code=exit_code, pid=None if exit_code else 1000 + seq))


async def test_updates_beyond_the_bound_drop_their_oldest_and_the_rest_is_written_once_space_is_freed(
        small_fs: SmallFilesystem, db_on_small_fs: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(store.journal, "RETRY_INTERVAL", 0.05)
    configs = [ModelConfig(name=name, model_path=f"/{name}.gguf") for name in ("first", "second")]
    for config in configs:
        await ModelRecord.create(**ModelRecord.config_values(config))
    deck = ModelDeck(journal=Journal(flush_interval=0.01, bounds=BOUNDS))
    await deck.load()
    start = datetime.now(UTC)
    with reporting_writes(deck.database):
        async with deck.journal.writing_behind():
            small_fs.fill()
            seq = 0
            for config in configs:  # every status and crash of the outage, with figures and lines in between
                for _ in range(CRASHES):
                    for to in (ModelStatus.STARTING, ModelStatus.RUNNING):
                        deck.apply(status(seq := seq + 1, config, to))
                    deck.apply(status(seq := seq + 1, config, ModelStatus.ERROR, exit_code=-9))
            first = configs[0]
            deck.apply(status(seq := seq + 1, first, ModelStatus.STARTING))
            deck.apply(status(seq := seq + 1, first, ModelStatus.RUNNING))
            for n in range(SAMPLES):
                deck.apply(MetricsEvent(seq=seq + n, uid=first.uid, sample=MetricsSample(
                    at=start + timedelta(seconds=n), tokens_predicted_total=n)))
                assert len(deck.journal.pending.samples) <= BOUNDS.samples  # memory stays within the bound
            for n in range(0, LINES, 10):
                deck.apply(LogEvent(seq=seq + SAMPLES + n, uid=first.uid, lines=[
                    LogLine(at=start, text=f"line {k}") for k in range(n, n + 10)]))
                assert len(deck.journal.pending.log_lines) <= BOUNDS.log_lines

            await until(lambda: deck.database.problem is not None and deck.database.dropped > 0,
                        message="the banner's health says writes are refused and some updates gave way")
            assert "the disk holding the database is full" in (deck.database.problem or "")
            assert deck.database.dropped == (SAMPLES - BOUNDS.samples) + (LINES - BOUNDS.log_lines)
            assert query(db_on_small_fs, "SELECT count(*) FROM crash") == [(0,)]

            small_fs.free()
            await until(lambda: deck.database.problem is None and not deck.journal.pending,
                        message="written once space is freed")
    assert deck.database.dropped == 0  # the banner's line goes with it
    assert query(db_on_small_fs, "SELECT name, status, exit_code FROM model_config ORDER BY name") == [
        ("first", "running", None), ("second", "error", -9)]
    assert query(db_on_small_fs, "SELECT count(*) FROM crash") == [(2 * CRASHES,)]  # every crash, none dropped
    kept = query(db_on_small_fs, "SELECT tokens_predicted_total FROM metric_sample ORDER BY at")
    assert kept == [(n,) for n in range(SAMPLES - BOUNDS.samples, SAMPLES)]  # the newest, the oldest gave way
    lines = query(db_on_small_fs, "SELECT text FROM log_line ORDER BY id")
    assert lines == [(f"line {k}",) for k in range(LINES - BOUNDS.log_lines, LINES)]
