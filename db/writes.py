"""Every write goes through `writing()`: one transaction, refused clearly when the file is gone or read-only.

SQLite keeps writing to an open file after it was deleted or made read-only, so those rows would
be lost at the next start without anyone noticing. Checking the file first turns that into an error
the page can show. Whatever else refuses a write (a full disk, an I/O error, a lock held by another
program) arrives as one DatabaseWriteError too, whichever layer raised it: Tortoise wraps some of
SQLite's errors, but a failed COMMIT comes through raw. So does an error nobody expected inside the
transaction (logged with its traceback): whatever the cause, the change did not happen.

The outcome of every write, refused or done, goes to one listener (`report_outcomes`): the store's
database health, which a banner on every page shows.
"""

from __future__ import annotations

import logging
import sqlite3
import stat
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.exceptions import BaseORMException
from tortoise.transactions import in_transaction

log = logging.getLogger(__name__)


class DatabaseWriteError(Exception):
    """A write did not happen; the message says why, for a person."""


# SQLite's primary result codes (extended ones such as SQLITE_READONLY_DBMOVED start with these), in plain words.
_PLAIN_WORDS = {
    "SQLITE_FULL": "the disk holding the database is full",
    "SQLITE_READONLY": "the database is read-only",
    "SQLITE_IOERR": "the disk reported an I/O error",
    "SQLITE_BUSY": "the database is locked by another program",
    "SQLITE_LOCKED": "the database is locked by another program",
    "SQLITE_CANTOPEN": "the database file cannot be opened",
    "SQLITE_CORRUPT": "the database file is damaged",
    "SQLITE_NOTADB": "the file is not a SQLite database",
    "SQLITE_PERM": "the database file may not be written",
}


def plain_reason(exc: BaseException) -> str:
    """Why SQLite (or the filesystem) refused, in words a person can act on; SQLite's own words beside."""
    cause: BaseException = exc
    while not isinstance(cause, sqlite3.Error) and isinstance(cause.args[0] if cause.args else None, BaseException):
        cause = cause.args[0]  # Tortoise wraps the sqlite3 error as its first argument
    if isinstance(cause, sqlite3.Error):
        name = getattr(cause, "sqlite_errorname", "") or ""
        for code, words in _PLAIN_WORDS.items():
            if name == code or name.startswith(code + "_"):
                return f"{words} ({cause})"
    if isinstance(cause, OSError) and cause.strerror:
        return cause.strerror
    return str(cause) or cause.__class__.__name__


_db_file: Path | None = None
Outcome = Callable[["DatabaseWriteError | None"], None]
_outcome: Outcome | None = None


def watch_file(path: Path | None) -> None:
    """Remember which file the app writes to (None: an in-memory or test database, not checked)."""
    global _db_file  # noqa: PLW0603 - one database per process, set once at start
    _db_file = path


def watched_file() -> Path | None:
    return _db_file


def report_outcomes(listener: Outcome | None) -> None:
    """Call `listener` after every write: with the error that refused it, or None once one went through."""
    global _outcome  # noqa: PLW0603 - one listener per process: the app's database health
    _outcome = listener


def _refused(error: DatabaseWriteError) -> DatabaseWriteError:
    if _outcome is not None:
        _outcome(error)
    return error


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
    """A checked transaction; any failure becomes a DatabaseWriteError and nothing is half-written."""
    try:
        _check_file()
        async with in_transaction() as connection:
            yield connection
    except DatabaseWriteError as exc:
        _refused(exc)
        raise
    except (BaseORMException, sqlite3.Error, OSError) as exc:
        raise _refused(DatabaseWriteError(f"the database refused the change: {plain_reason(exc)}")) from exc
    except Exception as exc:
        log.exception("a database write failed unexpectedly")
        raise _refused(DatabaseWriteError(f"the change failed unexpectedly: {exc}")) from exc
    if _outcome is not None:
        _outcome(None)
