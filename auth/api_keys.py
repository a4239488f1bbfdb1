"""API keys: how apps (the gateway's clients, the management API's scripts) prove who they are.

A key is 32 random bytes, shown once when it is made; only its SHA-256 digest is stored. A fast hash
is enough here, unlike for passwords: a key has 256 bits of entropy, so no dictionary or brute force
gets anywhere near it, and a per-request argon2 would add 0.1 s to every completion (docs/security.md).
Every key is cached in memory by digest, so checking one costs a hash and a dict lookup.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from enum import StrEnum

from nicegui import Event

from db.api_key_record import ApiKeyRecord
from db.user_record import Role
from db.writes import DatabaseWriteError, writing
from store import audit
from store.actor import Actor
from store.errors import StoreError

KEY_PREFIX = "mdk-"  # says what it is when it turns up in a config file or a log
NAME_MAX = 64
SHOWN_PREFIX = 10  # "mdk-" and six characters: enough to tell keys apart, far too few to guess one


class Scope(StrEnum):
    INFERENCE = "inference"  # the gateway: /v1/... and /upstream/...
    MANAGE = "manage"  # the management API: configurations, start and stop


class ApiKeyError(StoreError):
    """A key change did not happen; the message says why."""


@dataclass(frozen=True)
class ApiKey:
    id: int
    name: str
    prefix: str
    scopes: frozenset[Scope]
    model_uids: frozenset[str] | None  # None: every model
    expires_at: datetime | None
    created_by: str
    created_at: datetime
    revoked_at: datetime | None = None

    def usable(self, now: datetime) -> bool:
        return self.revoked_at is None and (self.expires_at is None or now < self.expires_at)

    def may_use(self, uid: str) -> bool:
        return self.model_uids is None or uid in self.model_uids

    @property
    def actor(self) -> Actor:
        """Who the audit log names for what this key asked. A key that may use a model may start it (on demand),
        which the deck allows admins only; it can do nothing else, for the gateway offers nothing else."""
        return Actor(f"key:{self.name}", Role.ADMIN)


def digest_of(plain: str) -> str:
    return hashlib.sha256(plain.encode()).hexdigest()


def _from_record(record: ApiKeyRecord) -> ApiKey:
    return ApiKey(id=record.id, name=record.name, prefix=record.prefix,
                  scopes=frozenset(Scope(s) for s in record.scopes),
                  model_uids=None if record.model_uids is None else frozenset(record.model_uids),
                  expires_at=record.expires_at, created_by=record.created_by, created_at=record.created_at,
                  revoked_at=record.revoked_at)


def _normal_name(name: str) -> str:
    name = name.strip()
    if not name:
        raise ApiKeyError("give the key a name (which app or person uses it)")
    if len(name) > NAME_MAX or not name.isprintable():
        raise ApiKeyError(f"a key name has at most {NAME_MAX} printable characters")
    return name


class ApiKeys:
    """Every key, cached by digest; changes are refused to viewers and audited in the same transaction."""

    def __init__(self) -> None:
        self._by_digest: dict[str, ApiKey] = {}
        self._by_id: dict[int, ApiKey] = {}
        self.changed: Event[[]] = Event()

    async def load(self) -> None:
        records = await ApiKeyRecord.all()
        self._by_digest = {r.digest: _from_record(r) for r in records}
        self._by_id = {key.id: key for key in self._by_digest.values()}

    def all(self) -> list[ApiKey]:
        """Newest first, revoked ones too (they stay listed: the activity log names them)."""
        return sorted(self._by_id.values(), key=lambda key: key.id, reverse=True)

    def match(self, plain: str, now: datetime) -> ApiKey | None:
        """The usable key this is (not revoked, not expired), or None."""
        key = self._by_digest.get(digest_of(plain))
        return key if key is not None and key.usable(now) else None

    async def create(self, name: str, scopes: Iterable[Scope], model_uids: Iterable[str] | None,
                     expires_at: datetime | None, *, by: Actor) -> tuple[ApiKey, str]:
        """A new key and its plain text, which is shown once and never again."""
        if not by.is_admin:
            raise ApiKeyError("viewers cannot manage API keys")
        name = _normal_name(name)
        chosen = sorted(set(scopes))
        if not chosen:
            raise ApiKeyError("choose what the key may do (inference, manage)")
        uids = None if model_uids is None else sorted(set(model_uids))
        if uids == []:
            raise ApiKeyError("choose at least one model, or all models")
        if expires_at is not None and expires_at <= datetime.now(UTC):
            raise ApiKeyError("the expiry lies in the past")
        plain = KEY_PREFIX + secrets.token_urlsafe(32)
        try:
            async with writing():
                record = await ApiKeyRecord.create(name=name, digest=digest_of(plain), prefix=plain[:SHOWN_PREFIX],
                                                   scopes=[s.value for s in chosen], model_uids=uids,
                                                   expires_at=expires_at, created_by=by.name)
                await audit.record(by, "key.create", name, f"scopes {', '.join(chosen)}; "
                                   f"models {'all' if uids is None else len(uids)}; expires {expires_at or 'never'}")
        except DatabaseWriteError as exc:
            raise ApiKeyError(f"the key was not created: {exc}") from exc
        key = _from_record(record)
        self._by_digest[record.digest] = key
        self._by_id[key.id] = key
        self.changed.emit()
        return key, plain

    async def revoke(self, key_id: int, *, by: Actor) -> None:
        if not by.is_admin:
            raise ApiKeyError("viewers cannot manage API keys")
        key = self._by_id.get(key_id)
        if key is None:
            raise ApiKeyError("that key no longer exists")
        if key.revoked_at is not None:
            return
        now = datetime.now(UTC)
        try:
            async with writing():
                await ApiKeyRecord.filter(id=key_id).update(revoked_at=now)
                await audit.record(by, "key.revoke", key.name, f"prefix {key.prefix}")
        except DatabaseWriteError as exc:
            raise ApiKeyError(f"the key was not revoked: {exc}") from exc
        revoked = replace(key, revoked_at=now)
        self._by_id[key_id] = revoked
        self._by_digest = {digest: (revoked if k.id == key_id else k) for digest, k in self._by_digest.items()}
        self.changed.emit()
