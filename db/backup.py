"""A consistent snapshot of the live database, made with SQLite's online backup API while ModelDeck writes.

A file copy of a database in WAL mode can catch it between a commit in the -wal file and the checkpoint into
the main file, and miss or tear what was written; the backup API reads one consistent snapshot (a read
transaction) page by page into a fresh database file.
"""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path

from db.database import BUSY_TIMEOUT_S


def snapshot(source: Path, target: Path) -> int:
    """Write a copy of `source` as it is now to `target` (a new file), checked before it is handed out; its size."""
    with closing(sqlite3.connect(source, timeout=BUSY_TIMEOUT_S)) as live, closing(sqlite3.connect(target)) as copy:
        live.backup(copy)
        copy.execute("PRAGMA journal_mode=DELETE")  # one self-contained file, no -wal beside it
        (verdict,) = copy.execute("PRAGMA quick_check").fetchone()
        if verdict != "ok":
            raise sqlite3.DatabaseError(f"the snapshot failed its check: {verdict}")
    return target.stat().st_size
