"""Remembering what a scan learnt about each file, keyed by (path, size, mtime_ns).

The scan talks to a `ScanCache`; `TortoiseScanCache` keeps it in the app's SQLite database
so a restart does not re-read every model, and tests or benches can pass any other store.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol

from db.gguf_cache import GgufFileRecord
from discovery.metadata import GgufInfo

# SQLite caps the number of bound parameters in one statement.
_QUERY_CHUNK = 500


@dataclass(frozen=True)
class FileStamp:
    """A file as the scan saw it: a change of size or mtime means it must be read again."""

    path: str
    size: int
    mtime_ns: int


@dataclass(frozen=True)
class Examined:
    """The outcome of reading one file: its description, or why it was refused."""

    stamp: FileStamp
    info: GgufInfo | None = None
    error: str | None = None


class ScanCache(Protocol):
    async def lookup(self, paths: Collection[str]) -> dict[str, Examined]:
        """What is remembered about these paths (stale entries included: the scan compares stamps)."""
        ...

    async def store(self, examined: Sequence[Examined]) -> None:
        """Remember these outcomes, replacing older ones for the same paths."""
        ...


class TortoiseScanCache:
    """The scan cache in the `gguf_file` table (Tortoise must be initialised with db.gguf_cache)."""

    async def lookup(self, paths: Collection[str]) -> dict[str, Examined]:
        wanted = list(paths)
        found: dict[str, Examined] = {}
        for start in range(0, len(wanted), _QUERY_CHUNK):
            rows = await GgufFileRecord.filter(path__in=wanted[start:start + _QUERY_CHUNK])
            for row in rows:
                stamp = FileStamp(row.path, row.size, row.mtime_ns)
                info = GgufInfo.model_validate(row.info) if row.info is not None else None
                found[row.path] = Examined(stamp, info, row.error)
        return found

    async def store(self, examined: Sequence[Examined]) -> None:
        now = datetime.now(UTC)
        rows = [
            GgufFileRecord(path=item.stamp.path, size=item.stamp.size, mtime_ns=item.stamp.mtime_ns,
                           info=item.info.model_dump(mode="json") if item.info else None,
                           error=item.error, scanned_at=now)
            for item in examined
        ]
        await GgufFileRecord.bulk_create(rows, batch_size=_QUERY_CHUNK, on_conflict=["path"],
                                         update_fields=["size", "mtime_ns", "info", "error", "scanned_at"])
