"""Writing and reading the audit log. `record` joins the caller's open transaction, if any."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from db.audit_record import AuditRecord
from db.writes import DatabaseWriteError, writing
from store.actor import Actor
from store.errors import StoreError

log = logging.getLogger(__name__)

TARGET_MAX = 128
DETAIL_MAX = 2000


@dataclass(frozen=True)
class AuditEntry:
    at: datetime
    actor: str
    action: str
    target: str
    detail: str
    address: str | None


async def record(actor: Actor | str, action: str, target: str = "", detail: str = "",
                 address: str | None = None) -> None:
    """One line of the log; names a person typed are cut to the column's size, never refused."""
    name = actor.name if isinstance(actor, Actor) else actor
    await AuditRecord.create(actor=name[:64], action=action, target=target[:TARGET_MAX],
                             detail=detail[:DETAIL_MAX], address=address)


async def record_many(actor: Actor, action: str, entries: list[tuple[str, str]]) -> None:
    """One line per (target, detail), written at once (an import of a thousand models writes a thousand lines)."""
    await AuditRecord.bulk_create([AuditRecord(actor=actor.name[:64], action=action, target=target[:TARGET_MAX],
                                               detail=detail[:DETAIL_MAX]) for target, detail in entries])


async def recent(actor: Actor, limit: int = 500) -> list[AuditEntry]:
    """The newest entries first; only admins may read the log."""
    if not actor.is_admin:
        raise StoreError("viewers cannot read the audit log")
    rows = await AuditRecord.all().order_by("-id").limit(limit)
    return [AuditEntry(r.at, r.actor, r.action, r.target, r.detail, r.address) for r in rows]


async def record_alone(actor: Actor | str, action: str, target: str = "", detail: str = "",
                       address: str | None = None) -> None:
    """An entry that is not part of another change (a sign-in); a failed write is logged, not raised."""
    try:
        async with writing():
            await record(actor, action, target, detail, address)
    except DatabaseWriteError as exc:
        log.warning("audit entry %s %s not written: %s", action, target, exc)
