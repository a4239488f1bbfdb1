"""An admin's download of the whole database: a consistent snapshot (db.backup), audited."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

from db.backup import snapshot
from db.writes import plain_reason
from store import audit
from store.actor import Actor
from store.errors import NotAllowed, NotSaved


async def database_snapshot(source: Path, target: Path, *, actor: Actor) -> None:
    """Write a snapshot of the live database to `target`; NotAllowed for viewers, NotSaved if SQLite refuses."""
    if not actor.is_admin:
        raise NotAllowed("viewers cannot download the database")
    try:
        size = await asyncio.to_thread(snapshot, source, target)
    except (sqlite3.Error, OSError) as exc:
        raise NotSaved(f"the backup could not be made: {plain_reason(exc)}") from exc
    await audit.record_alone(actor, "database.backup", source.name, f"{size} bytes")
