"""A real SQLite file on a real filesystem that fills up: the refusal reaches the app as a DatabaseWriteError
(not the raw sqlite3 error a failed COMMIT raises), nothing of the refused transaction is written, and
writing works again once space is freed."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from datetime import UTC, datetime
from pathlib import Path

import pytest

from db.database import open_database
from db.log_record import insert_log_lines
from db.writes import DatabaseWriteError, writing
from tests.faults import SmallFilesystem

UID = "f" * 32


async def write_lines(count: int, text: str = "x" * 1000) -> None:
    """`count` log lines of about 1 kB in one transaction: enough new pages that SQLite must grow its files."""
    at = datetime.now(UTC)
    async with writing() as connection:
        await insert_log_lines(connection, [(UID, at, "I", f"{n} {text}") for n in range(count)])


def stored_lines(path: Path) -> int:
    with closing(sqlite3.connect(path)) as db:
        return int(db.execute("SELECT count(*) FROM log_line").fetchone()[0])


async def test_a_full_disk_is_a_database_write_error_and_writing_resumes_once_space_is_freed(
        small_fs: SmallFilesystem, db_on_small_fs: Path) -> None:
    await write_lines(10)
    small_fs.fill()
    assert small_fs.full

    with pytest.raises(DatabaseWriteError, match="full"):
        await write_lines(500)
    with pytest.raises(DatabaseWriteError, match="full"):  # and again: the connection is still usable
        await write_lines(500)

    small_fs.free()
    await write_lines(500)
    assert stored_lines(db_on_small_fs) == 510  # the refused batches left nothing half-written



async def test_a_write_to_a_database_file_deleted_meanwhile_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "modeldeck.sqlite3"
    async with open_database(path):
        await write_lines(1)
        path.unlink()
        with pytest.raises(DatabaseWriteError, match=f"the database file {path} is missing"):
            await write_lines(1)
