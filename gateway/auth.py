"""Who is calling the gateway: an API key with the inference scope (`Authorization: Bearer KEY`), or anyone on
this machine when ModelDeck is open on loopback.

Keys are not sessions: a session cookie opens no gateway route, and a key opens no page (the sign-in gate
never sees a key). Failed tries count per client address like failed sign-ins; past the limit the address
gets 429 until the window has passed, whatever it sends.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from auth.api_keys import ApiKey, ApiKeys, Scope
from auth.rate_limit import RateLimiter
from gateway.errors import GatewayError
from store import ModelState
from store.actor import Actor, Role

# Whoever calls the gateway on a loopback-only ModelDeck that is open there (no key needed).
LOCAL_CALLER = Actor("local:gateway", Role.ADMIN)
UNAUTHORIZED_HEADERS = ((b"www-authenticate", b"Bearer"),)


@dataclass(frozen=True)
class Caller:
    name: str  # the key's name, or "local" on an open loopback
    actor: Actor  # who the audit log names for an on-demand start
    key: ApiKey | None = None

    def may_use(self, state: ModelState) -> bool:
        return self.key is None or self.key.may_use(state.uid)

    def check(self, state: ModelState) -> None:
        if not self.may_use(state):
            raise GatewayError(403, f"this key may not use {state.name}", "model_not_allowed")


OPEN_CALLER = Caller("local", LOCAL_CALLER)


def bearer_token(headers: list[tuple[bytes, bytes]]) -> str | None:
    """The key from `Authorization: Bearer KEY` (or Anthropic's `x-api-key: KEY`)."""
    for name, value in headers:
        if name == b"authorization":
            scheme, _, token = value.decode("latin-1").partition(" ")
            return token.strip() if scheme.lower() == "bearer" else None
        if name == b"x-api-key":
            return value.decode("latin-1").strip()
    return None


class KeyCheck:
    def __init__(self, keys: ApiKeys, *, open_: bool, limiter: RateLimiter | None = None) -> None:
        self.keys = keys
        self.open = open_
        self.limiter = limiter or RateLimiter()

    def caller(self, headers: list[tuple[bytes, bytes]], address: str) -> Caller:
        if self.open:
            return OPEN_CALLER
        limited = f"gateway:{address}"
        if wait := self.limiter.wait_s(limited):
            raise GatewayError(429, f"too many requests with a wrong key: wait {wait:.0f} s", "too_many_failures",
                               headers=((b"retry-after", str(int(wait) + 1).encode()),))
        token = bearer_token(headers)
        key = self.keys.match(token, datetime.now(UTC)) if token else None
        if key is None:
            self.limiter.failed(limited)
            message = ("this endpoint needs an API key: send Authorization: Bearer <key> (admins create keys on the "
                       "Keys page)" if not token else "the API key is wrong, revoked or expired")
            raise GatewayError(401, message, "invalid_api_key", headers=UNAUTHORIZED_HEADERS)
        self.limiter.forget(limited)  # like a good sign-in
        if Scope.INFERENCE not in key.scopes:
            raise GatewayError(403, "this key is for the management API, not for models", "scope_not_allowed")
        return Caller(key.name, key.actor, key)
