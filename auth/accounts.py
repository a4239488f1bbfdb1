"""Accounts: create, verify, change password, delete. Names and roles are cached for the sign-in gate.

Every change is refused to viewers and written with its audit line in one transaction.
A session remembers the account's `key` (a digest of its password hash): changing the password
or deleting the account ends every session that was signed in with the old one.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

from nicegui import Event

from auth.passwords import hash_password, password_problem, verify_password
from db.user_record import UserRecord
from db.writes import DatabaseWriteError, writing
from protocol.role import Role
from store import audit
from store.actor import Actor
from store.errors import StoreError

NAME = re.compile(r"[a-z0-9][a-z0-9._-]{0,31}")


class AccountError(StoreError):
    """An account change did not happen; the message says why."""


@dataclass(frozen=True)
class Account:
    name: str
    role: Role
    key: str  # changes with the password

    @property
    def actor(self) -> Actor:
        return Actor(self.name, self.role)


def _key(password_hash: str) -> str:
    return hashlib.sha256(password_hash.encode()).hexdigest()[:32]


def normal_name(name: str) -> str:
    """The stored form of a user name: trimmed, lower case, plain ASCII letters, digits and . _ -"""
    folded = name.strip().lower()
    if not NAME.fullmatch(folded):
        raise AccountError("a user name has 1 to 32 of the letters a-z, digits, '.', '_' and '-'")
    return folded


class Accounts:
    def __init__(self) -> None:
        self._by_name: dict[str, Account] = {}
        self.changed: Event[[]] = Event()

    async def load(self) -> None:
        self._by_name = {r.name: Account(r.name, r.role, _key(r.password_hash)) for r in await UserRecord.all()}

    @property
    def empty(self) -> bool:
        return not self._by_name

    def get(self, name: str) -> Account | None:
        return self._by_name.get(name)

    def all(self) -> list[Account]:
        return sorted(self._by_name.values(), key=lambda a: a.name)

    async def verify(self, name: str, password: str) -> Account | None:
        """The account when name and password match, else None (same cost either way)."""
        try:
            record = await UserRecord.get_or_none(name=normal_name(name))
        except AccountError:
            record = None
        ok = await verify_password(record.password_hash if record else None, password)
        return self._by_name.get(record.name) if ok and record else None

    async def create(self, name: str, password: str, role: Role, *, by: Actor | None) -> Account:
        """A new account; `by` None only for the first admin, made with the one-time setup token."""
        if by is None and not self.empty:
            raise AccountError("the first account exists already: sign in")
        if by is not None and not by.is_admin:
            raise AccountError("viewers cannot manage accounts")
        name = normal_name(name)
        if problem := password_problem(password):
            raise AccountError(problem)
        if name in self._by_name:
            raise AccountError(f"an account named {name!r} already exists")
        password_hash = await hash_password(password)
        try:
            async with writing():
                await UserRecord.create(name=name, password_hash=password_hash, role=role)
                await audit.record(by or Actor(name, role), "account.create", name, f"role {role.value}")
        except DatabaseWriteError as exc:
            raise AccountError(f"the account was not created: {exc}") from exc
        account = self._by_name[name] = Account(name, role, _key(password_hash))
        self.changed.emit()
        return account

    async def change_password(self, name: str, current: str, new: str) -> Account:
        """The signed-in person's own password; the current one is asked again."""
        if await self.verify(name, current) is None:
            raise AccountError("the current password is wrong")
        if problem := password_problem(new):
            raise AccountError(problem)
        password_hash = await hash_password(new)
        try:
            async with writing():
                await UserRecord.filter(name=name).update(password_hash=password_hash)
                await audit.record(name, "account.password", name)
        except DatabaseWriteError as exc:
            raise AccountError(f"the password was not changed: {exc}") from exc
        account = self._by_name[name] = Account(name, self._by_name[name].role, _key(password_hash))
        return account

    async def delete(self, name: str, *, by: Actor) -> None:
        if not by.is_admin:
            raise AccountError("viewers cannot manage accounts")
        account = self._by_name.get(name)
        if account is None:
            raise AccountError(f"there is no account named {name!r}")
        if name == by.name:
            raise AccountError("you cannot delete your own account")
        if account.role is Role.ADMIN and sum(a.role is Role.ADMIN for a in self._by_name.values()) == 1:
            raise AccountError("the last admin account cannot be deleted")
        try:
            async with writing():
                await UserRecord.filter(name=name).delete()
                await audit.record(by, "account.delete", name)
        except DatabaseWriteError as exc:
            raise AccountError(f"the account was not deleted: {exc}") from exc
        del self._by_name[name]
        self.changed.emit()
