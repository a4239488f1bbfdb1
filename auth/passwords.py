"""Passwords: argon2id hashes (argon2-cffi's defaults), length limits, constant-ish time for unknown names."""

from __future__ import annotations

import asyncio
from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

PASSWORD_MIN = 8
PASSWORD_MAX = 256  # long enough for any passphrase, short enough that hashing stays cheap

_hasher = PasswordHasher()


def password_problem(password: str) -> str | None:
    """Why a new password is not acceptable, or None."""
    if len(password) < PASSWORD_MIN:
        return f"the password needs at least {PASSWORD_MIN} characters"
    if len(password) > PASSWORD_MAX:
        return f"the password may have at most {PASSWORD_MAX} characters"
    return None


async def hash_password(password: str) -> str:
    return await asyncio.to_thread(_hasher.hash, password)  # ~0.1 s of CPU: off the event loop


async def verify_password(password_hash: str | None, password: str) -> bool:
    """True when the password matches; with no hash (unknown name) it still spends the same time."""
    if len(password) > PASSWORD_MAX:
        return False

    def check() -> bool:
        try:
            return _hasher.verify(password_hash or _dummy_hash(), password) and password_hash is not None
        except (VerificationError, InvalidHashError):
            return False

    return await asyncio.to_thread(check)


@cache
def _dummy_hash() -> str:
    return _hasher.hash("no account has this password")
