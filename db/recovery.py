"""A database file deleted while the app runs, written back from what SQLite still holds open.

SQLite keeps reading and writing a file it has open after someone deleted its name, so the app holds
every row still: the configurations, the accounts, the history. Copying that (`VACUUM INTO`) to the
old name brings it all back, where a database rebuilt from the configurations alone would lose the
accounts (and reopen the first-run setup to anyone on the LAN) and the history.
"""

from __future__ import annotations

from pathlib import Path

from tortoise.connection import get_connection

CONNECTION = "default"
LEFTOVERS = ("-wal", "-shm")


async def rewrite_deleted_file(path: Path) -> None:
    """Write the open database to `path` again, then let the next query open it there.

    The copy is made beside `path` and moved into place last, so a half-written copy never takes the name.
    The deleted file's -wal and -shm (if they were left) are removed first: SQLite would apply that old
    log to the new file, whose pages it does not describe."""
    client = get_connection(CONNECTION)
    copy = path.with_name(path.name + ".recovering")
    copy.unlink(missing_ok=True)
    try:
        async with client.acquire_connection() as connection:  # holds every other query off until it is done
            await connection.execute("VACUUM INTO ?", [str(copy)])
            await client.close()
            for suffix in LEFTOVERS:
                path.with_name(path.name + suffix).unlink(missing_ok=True)
            copy.replace(path)
    finally:
        copy.unlink(missing_ok=True)  # a copy that failed half-way
