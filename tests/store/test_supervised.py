"""No background task dies of an exception nobody expected: it is logged and the work starts again; a batch
the journal could not write for whatever reason is kept, said, and written on the next try."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator
from contextlib import closing
from datetime import UTC, datetime
from pathlib import Path

import pytest

import store.journal
from db.database import open_database
from db.model_record import ModelRecord
from protocol import ModelConfig
from protocol.messages import MetricsSample
from store.database_health import DatabaseHealth, reporting_writes
from store.journal import Journal
from store.supervised import in_background, supervised
from tests.waiting import until


async def test_a_task_that_fails_unexpectedly_is_logged_and_started_again(caplog: pytest.LogCaptureFixture) -> None:
    runs: list[int] = []
    done = asyncio.Event()

    async def work() -> None:
        runs.append(len(runs))
        if len(runs) < 3:
            raise RuntimeError(f"bug number {len(runs)}")
        done.set()

    task = supervised("flaky work", work, first_delay_s=0.01)
    await asyncio.wait_for(done.wait(), 5)
    await task  # work that returns is done: not started again
    assert runs == [0, 1, 2]
    failures = [r for r in caplog.records if "flaky work failed" in r.getMessage()]
    assert len(failures) == 2 and all(r.exc_info for r in failures)  # with the traceback


async def test_cancelling_ends_a_supervised_task_at_once() -> None:
    started = asyncio.Event()

    async def forever() -> None:
        started.set()
        await asyncio.Event().wait()

    async with in_background("forever", forever) as task:
        await asyncio.wait_for(started.wait(), 5)
    assert task.cancelled()


@pytest.fixture
async def db_path(tmp_path: Path) -> AsyncIterator[Path]:
    path = tmp_path / "journal.sqlite3"
    async with open_database(path):
        yield path


def stored_samples(path: Path) -> int:
    with closing(sqlite3.connect(path)) as db:
        return int(db.execute("SELECT count(*) FROM metric_sample").fetchone()[0])


async def test_a_batch_that_fails_for_an_unexpected_reason_is_kept_said_and_written_later(
        db_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = ModelConfig(name="m", model_path="/m.gguf")
    await ModelRecord.create(**ModelRecord.config_values(config))
    real_insert = store.journal.insert_samples
    calls = 0

    async def insert_failing_once(*args: object) -> None:  # a fault no real database gives on demand
        nonlocal calls
        calls += 1
        if calls == 1:
            raise ValueError("a row nobody expected")
        await real_insert(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(store.journal, "insert_samples", insert_failing_once)
    monkeypatch.setattr(store.journal, "RETRY_INTERVAL", 0.1)
    health = DatabaseHealth()
    journal = Journal(flush_interval=0.01)
    with reporting_writes(health):
        async with journal.writing_behind():
            journal.sample(config.uid, MetricsSample(at=datetime.now(UTC)))
            await until(lambda: health.problem is not None, message="the failure said")
            assert "a row nobody expected" in (health.problem or "")
            await until(lambda: stored_samples(db_path) == 1, message="the kept batch written on the next try")
            assert health.problem is None
