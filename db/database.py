"""Opening the database: check its folder and file, apply pending migrations, then hand Tortoise to the app."""

from __future__ import annotations

import asyncio
import sqlite3
import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, closing
from functools import partial
from pathlib import Path
from typing import Any

from tortoise.context import TortoiseContext
from tortoise.migrations.api.migrate import migrate

from db.writes import plain_reason, watch_file

APP_LABEL = "models"
MODEL_MODULES = ["db.model_record", "db.gguf_cache", "db.metric_record", "db.user_record", "db.audit_record",
                 "db.host_record", "db.log_record", "db.crash_record", "db.api_key_record", "db.activity_record",
                 "db.config_version_record"]


def tortoise_config(db_url: str) -> dict[str, Any]:
    return {
        "connections": {"default": db_url},
        "apps": {APP_LABEL: {"models": MODEL_MODULES, "migrations": "db.migrations", "default_connection": "default"}},
        "use_tz": True,
        "timezone": "UTC",
    }


# A write waits this long for a lock another program holds (ModelDeck's own writes never contend: Tortoise
# serialises them on one connection), then is refused: short enough that the banner says so within 2 s.
BUSY_TIMEOUT_S = 1.0


class DatabaseUnavailable(Exception):
    """The database cannot be opened for writing at all; the message says why, for a person."""


def sqlite_url(path: Path) -> str:
    # PRAGMAs as URL parameters: wait on a busy writer instead of failing; WAL + NORMAL is durable enough
    return f"sqlite://{path}?busy_timeout={int(BUSY_TIMEOUT_S * 1000)}&synchronous=NORMAL"


def kept_marker(db_path: Path) -> Path:
    """A file beside the database saying that one was kept here: hidden, so `rm data/*` leaves it."""
    return db_path.with_name(f".{db_path.name}.kept")


def check_database(db_path: Path, *, new_database: bool = False) -> None:
    """Refuse, in plain words, a folder or database that cannot be written (read-only, no permission, locked
    by another program, not a database), creating the folder first if needed; and a database that vanished
    from where one was kept, unless `new_database` (else the app would begin empty without a word).

    Why before Tortoise: when its first connection fails, Tortoise 1.1.9 keeps the lock of that connection
    and the migration then waits on it for ever (the app hung without a word, deaf to SIGTERM)."""
    if not new_database and not db_path.exists() and kept_marker(db_path).exists():
        raise DatabaseUnavailable(
            f"the database {db_path} is missing, but ModelDeck kept its data there before. Put the file back (from a "
            "backup), or start with --new-database (MODELDECK_NEW_DATABASE=1) to begin with an empty one")
    folder = db_path.parent
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=folder):  # SQLite needs the folder too: the -wal and -shm files
            pass
    except OSError as exc:
        raise DatabaseUnavailable(f"the data folder {folder} cannot be written: {plain_reason(exc)}") from None
    try:
        with closing(sqlite3.connect(db_path, timeout=BUSY_TIMEOUT_S, isolation_level=None)) as db:
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("BEGIN IMMEDIATE")  # takes the write lock, writes nothing
            db.execute("ROLLBACK")
    except sqlite3.Error as exc:
        raise DatabaseUnavailable(f"the database {db_path} cannot be written: {plain_reason(exc)}") from None


async def apply_migrations(db_url: str, target: str | None = None) -> None:
    """Bring the schema up to `target` (default: the latest migration); existing rows are kept."""

    async def run() -> None:
        # migrate() installs a Tortoise context in the calling task's context variables; a fresh
        # context inside its own task keeps that from leaking into the app's tasks.
        with TortoiseContext() as context:
            await migrate(config=tortoise_config(db_url), target=target)
            await context.close_connections()

    await asyncio.create_task(run())


@asynccontextmanager
async def open_database(db_path: Path, *, new_database: bool = False) -> AsyncIterator[None]:
    """Check, migrate, then keep one Tortoise context open for the app's lifetime (DatabaseUnavailable if
    it cannot be written, or vanished from where one was kept unless `new_database`).

    The context is the global fallback, not a context variable: page handlers and background
    tasks run in tasks that do not descend from the lifespan's task.
    """
    await asyncio.to_thread(partial(check_database, db_path, new_database=new_database))
    url = sqlite_url(db_path)
    await apply_migrations(url)
    if not kept_marker(db_path).exists():
        kept_marker(db_path).write_text("ModelDeck keeps its database beside this file: if it goes missing, ModelDeck "
                                        "will not start with an empty one unless told to (--new-database).\n")
    context = TortoiseContext()
    with context:  # current only while the models are bound to it
        await context.init(config=tortoise_config(url), _enable_global_fallback=True)
    watch_file(db_path)
    try:
        yield
    finally:
        watch_file(None)
        await context.close_connections()


# For the `tortoise makemigrations` CLI ([tool.tortoise] in pyproject.toml); the app passes its own URL.
TORTOISE_ORM = tortoise_config("sqlite://:memory:")
