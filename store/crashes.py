"""A model's crash timeline, newest first, from the crash table the journal writes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from db.crash_record import CrashRecord

TIMELINE_LENGTH = 50


@dataclass(frozen=True)
class Crash:
    at: datetime
    exit_code: int
    reason: str | None
    last_lines: tuple[str, ...]


async def crash_timeline(uid: str) -> list[Crash]:
    records = await CrashRecord.filter(uid=uid).order_by("-at", "-id").limit(TIMELINE_LENGTH)
    return [Crash(r.at, r.exit_code, r.reason, tuple(r.last_lines)) for r in records]
