"""Who is calling the management API, and what they may do.

Two ways in, never mixed: `Authorization: Bearer <key>` (a script), or a signed-in browser session (the
cookie; /api/docs in a browser). A request with a key reaches the API straight from the front door, before
NiceGUI's session middleware, so a key never touches a session or a page; a request without one comes
through NiceGUI's stack, where the session is read. A key with the `manage` scope acts as an admin; an
`inference` key, like a viewer, may read and never change. A key limited to some models sees and acts on
those only. Failed keys count per address like failed sign-ins (429 past the limit).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import urlsplit

from fastapi import Request

from api.errors import ApiError
from auth.api_keys import ApiKey, Scope
from auth.gate import Gate
from auth.rate_limit import RateLimiter
from protocol.role import Role
from store.actor import LOCAL_ADMIN, Actor

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
UNAUTHORIZED = {"WWW-Authenticate": "Bearer"}


@dataclass(frozen=True)
class Caller:
    actor: Actor
    key: ApiKey | None = None

    def may_see(self, uid: str) -> bool:
        return self.key is None or self.key.may_use(uid)

    @property
    def whole_deck(self) -> bool:
        """Not limited to some models (only such a caller may add models or take the whole database)."""
        return self.key is None or self.key.model_uids is None

    def must_change(self, what: str = "change anything") -> None:
        """403 unless this caller may change things (an admin, or a key with the manage scope)."""
        if self.actor.is_admin:
            return
        if self.key is not None:
            raise ApiError(403, f"this key has no manage scope: it may read, not {what} (an admin gives a key the "
                                "manage scope on the Keys page)")
        raise ApiError(403, f"viewers may read, not {what}")

    def must_have_whole_deck(self, what: str) -> None:
        if not self.whole_deck:
            raise ApiError(403, f"this key is limited to some models: it cannot {what}")


def _same_origin(request: Request) -> bool:
    """A browser sends Origin with every cross-site write; one that names another site is a forged request
    (a page elsewhere using this browser's cookie). Scripts send none."""
    origin = request.headers.get("origin")
    if origin is None:
        return request.headers.get("sec-fetch-site", "same-origin") in {"same-origin", "none"}
    return urlsplit(origin).netloc == request.headers.get("host")


class Callers:
    """The API's dependency: the Caller of each request, or 401 / 403 / 429."""

    def __init__(self, gate: Gate, limiter: RateLimiter | None = None) -> None:
        self.gate = gate
        self.limiter = limiter or RateLimiter()

    def __call__(self, request: Request) -> Caller:
        if self.gate.open:
            return Caller(LOCAL_ADMIN)
        header = request.headers.get("authorization")
        if header is not None:
            return self._keyed(header, request.client.host if request.client else "")
        actor = self.gate.session_actor()
        if actor is None:
            raise ApiError(401, "sign in first, or send Authorization: Bearer <key> (admins make keys on the Keys "
                                "page; a key with the manage scope may change things)", headers=UNAUTHORIZED)
        if request.method not in SAFE_METHODS and not _same_origin(request):
            raise ApiError(403, "this change came from another site's page: ModelDeck refuses it")
        return Caller(actor)

    def _keyed(self, header: str, address: str) -> Caller:
        limited = f"api:{address}"
        if wait := self.limiter.wait_s(limited):
            raise ApiError(429, f"too many requests with a wrong key: wait {wait:.0f} s",
                           headers={"Retry-After": str(int(wait) + 1)})
        scheme, _, token = header.partition(" ")
        key = self.gate.keys.match(token.strip(), datetime.now(UTC)) if scheme.lower() == "bearer" else None
        if key is None:
            self.limiter.failed(limited)
            raise ApiError(401, "the API key is wrong, revoked or expired (send Authorization: Bearer <key>)",
                           headers=UNAUTHORIZED)
        self.limiter.forget(limited)
        role = Role.ADMIN if Scope.MANAGE in key.scopes else Role.VIEWER
        return Caller(Actor(f"key:{key.name}", role), key)
