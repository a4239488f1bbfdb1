"""Every write goes through `writing()`: one transaction, refused clearly when the file is gone or read-only.

SQLite keeps writing to an open file after it was deleted or made read-only, so those rows would
be lost at the next start without anyone noticing. Checking the file first turns that into an error
the page can show.
"""

from __future__ import annotations

import stat
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.exceptions import BaseORMException
from tortoise.transactions import in_transaction


class DatabaseWriteError(Exception):
    """A write did not happen; the message says why, for a person."""


_db_file: Path | None = None


def watch_file(path: Path | None) -> None:
    """Remember which file the app writes to (None: an in-memory or test database, not checked)."""
    global _db_file  # noqa: PLW0603 - one database per process, set once at start
    _db_file = path


def _check_file() -> None:
    if _db_file is None:
        return
    try:
        mode = _db_file.stat().st_mode
    except FileNotFoundError:
        raise DatabaseWriteError(f"the database file {_db_file} is missing") from None
    if not mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH):
        raise DatabaseWriteError(f"the database file {_db_file} is read-only")


@asynccontextmanager
async def writing() -> AsyncIterator[BaseDBAsyncClient]:
    """A checked transaction; any ORM failure becomes a DatabaseWriteError and nothing is half-written."""
    _check_file()
    try:
        async with in_transaction() as connection:
            yield connection
    except BaseORMException as exc:
        raise DatabaseWriteError(f"the database refused the change: {exc}") from exc
