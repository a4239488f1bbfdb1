"""A database locked by another program, and one whose disk reports I/O errors, look like a full disk
(tests/app/test_full_disk.py): the banner says why within 2 s, a Start is refused and put back, and
writing resumes by itself once the cause goes away."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import AbstractContextManager, closing, contextmanager
from datetime import UTC, datetime

import pytest
from nicegui.testing import User
from tortoise.backends.sqlite.client import SqliteTransactionWrapper

from tests.app.conftest import DeckHome
from tests.app.helpers import add_model, count, see_card, start_model, tap, uid_of
from tests.processes import llama_servers
from tests.simulation import started_app
from tests.waiting import until


@contextmanager
def locked_by_another_program(home: DeckHome) -> Iterator[None]:
    """Another program (here: the sqlite3 module on its own connection) holds the write lock."""
    with closing(sqlite3.connect(home.db_path, isolation_level=None)) as other:
        other.execute("BEGIN EXCLUSIVE")
        yield
        other.execute("ROLLBACK")


@contextmanager
def disk_io_errors(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Every COMMIT fails as SQLite fails when the disk does (SQLITE_IOERR): no real disk does that on demand,
    so the fault is injected at the narrowest point, the transaction's commit, and the transaction rolled back."""
    real_commit = SqliteTransactionWrapper.commit

    async def failing_commit(transaction: SqliteTransactionWrapper) -> None:
        await transaction.rollback()
        error = sqlite3.OperationalError("disk I/O error")
        error.sqlite_errorcode, error.sqlite_errorname = 10, "SQLITE_IOERR"
        raise error

    monkeypatch.setattr(SqliteTransactionWrapper, "commit", failing_commit)
    yield
    monkeypatch.setattr(SqliteTransactionWrapper, "commit", real_commit)


async def refused_then_resumed(user: User, home: DeckHome, fault: AbstractContextManager[None], reason: str) -> None:
    await user.open("/")
    watched = await start_model(user, home, "watched")  # its figures keep the journal writing
    [server] = llama_servers()
    await add_model(user, home, "second", ctx_size=256)
    second = uid_of(home, "second")

    with fault:
        for page in ("/", "/dashboard"):
            await user.open(page)
            await user.should_see(marker="database-banner", retries=20)
            await user.should_see(reason)
        await user.open("/")
        tap(user, second, "start")
        await until(lambda: user.notify.contains(f"second was not started: the database refused the change: {reason}"),
                    message="the refusal, in words")
        await see_card(user, second, "stopped")  # put back, not `starting` for ever
        assert llama_servers() == [server]  # the command was never sent
    resumed_at = datetime.now(UTC)

    await user.should_not_see(marker="database-banner", retries=200)  # by itself, at the journal's next retry
    await until(lambda: count(home, "metric_sample", resumed_at) >= 1, within=10, message="figures written again")
    await see_card(user, watched, "running")
    tap(user, second, "start")
    await until(lambda: home.row("second")["status"] == "running", within=15, message="second running")


async def test_a_database_locked_by_another_program_is_shown_refused_and_written_again_once_released(
        deck_home: DeckHome) -> None:
    async with started_app() as user:
        await refused_then_resumed(user, deck_home, locked_by_another_program(deck_home),
                                   "the database is locked by another program")


async def test_disk_io_errors_are_shown_refused_and_written_again_once_they_stop(
        deck_home: DeckHome, monkeypatch: pytest.MonkeyPatch) -> None:
    async with started_app() as user:
        await refused_then_resumed(user, deck_home, disk_io_errors(monkeypatch), "the disk reported an I/O error")
