"""The history of each configuration: a version for every create, edit, rename, import and restore.

A version keeps the settings the configuration had afterwards (what "Restore this version" brings back) and
what changed (field -> old and new value), who did it and when. Versions are written in the transaction of
the change they describe, so a change and its version are both there or neither is. A configuration saved
before ModelDeck kept history gets a `baseline` version of how it was, the first time it changes.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from tortoise.functions import Max

from db.config_version_record import ConfigVersionRecord
from protocol import ModelConfig
from protocol.config import Changes
from protocol.versions import VersionAction
from store.actor import SYSTEM, Actor
from store.errors import NotFound


@dataclass(frozen=True)
class Version:
    number: int
    at: datetime
    actor: str
    action: VersionAction
    settings: dict[str, Any]
    changes: Changes
    restored_from: int | None = None

    def summary(self) -> str:
        """One line for the history list: "edit by ada: ctx_size, threads"."""
        what = {VersionAction.RESTORE: f"restore of version {self.restored_from}"}.get(self.action, self.action.value)
        fields = ", ".join(self.changes) if self.changes and self.action is not VersionAction.CREATE else ""
        return f"{what} by {self.actor}" + (f": {fields}" if fields else "")


@dataclass(frozen=True)
class NewVersion:
    """A version to write: the configuration as it is after the change, and what changed."""

    config: ModelConfig
    action: VersionAction
    changes: Changes
    restored_from: int | None = None


def _from_record(record: ConfigVersionRecord) -> Version:
    return Version(number=record.number, at=record.at, actor=record.actor, action=record.action,
                   settings=record.settings, changes={name: (old, new) for name, (old, new) in record.changes.items()},
                   restored_from=record.restored_from)


async def last_numbers(uids: Iterable[str]) -> dict[str, int]:
    """The newest version number of each configuration that has a history (absent: none yet)."""
    wanted = list(uids)
    if not wanted:
        return {}
    rows = await ConfigVersionRecord.filter(uid__in=wanted).group_by("uid").annotate(last=Max("number")).values(
        "uid", "last")
    return {row["uid"]: row["last"] for row in rows}


async def record(actor: Actor, changes: Iterable[tuple[NewVersion, ModelConfig | None]]) -> None:
    """Write a version for each change (joining the caller's transaction); `before`, when given, is the
    configuration as it was, kept as a baseline version when it has no history yet."""
    listed = list(changes)
    last = await last_numbers(new.config.uid for new, _ in listed)
    rows = []
    for new, before in listed:
        uid = new.config.uid
        number = last.get(uid, 0)
        if number == 0 and before is not None:
            number += 1
            rows.append(ConfigVersionRecord(uid=uid, number=number, actor=SYSTEM.name, action=VersionAction.BASELINE,
                                            settings=before.settings(), changes={}))
        number += 1
        last[uid] = number
        rows.append(ConfigVersionRecord(uid=uid, number=number, actor=actor.name[:64], action=new.action,
                                        settings=new.config.settings(),
                                        changes={name: list(pair) for name, pair in new.changes.items()},
                                        restored_from=new.restored_from))
    await ConfigVersionRecord.bulk_create(rows)


async def history(uid: str) -> list[Version]:
    """Newest first."""
    return [_from_record(r) for r in await ConfigVersionRecord.filter(uid=uid).order_by("-number")]


async def version(uid: str, number: int) -> Version:
    found = await ConfigVersionRecord.get_or_none(uid=uid, number=number)
    if found is None:
        raise NotFound(f"there is no version {number} of that model")
    return _from_record(found)


async def forget(uid: str) -> None:
    """A deleted configuration's history goes with it (joining the caller's transaction)."""
    await ConfigVersionRecord.filter(uid=uid).delete()
