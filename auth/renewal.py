"""A new session id at every sign-in, so an id planted in a browser before it signs in (session
fixation) is worth nothing afterwards.

NiceGUI keys app.storage.user by the id in its signed session cookie, and a sign-in happens over the
page's socket, which cannot set a cookie. So a sign-in hands out a one-time pass (30 s, bound to the
browser's current id) and sends the browser through two plain requests (ui/pages/login.py):
  /login/renew?pass=P   a fresh id goes into the cookie; the old id's storage is emptied;
  /login/finish?pass=P  NiceGUI has made storage for the fresh id: the session is written there.
"""

from __future__ import annotations

import secrets
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

PASS_TTL_S = 30.0


@dataclass
class Pass:
    name: str
    key: str
    old_id: str
    expires: float
    carried: dict[str, Any] = field(default_factory=dict)  # the old storage's other entries
    new_id: str | None = None


class SessionRenewals:
    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._passes: dict[str, Pass] = {}
        self._clock = clock

    def issue(self, name: str, key: str, browser_id: str, carried: dict[str, Any]) -> str:
        """A pass for the account `name` (with its current key), usable only by this browser id."""
        now = self._clock()
        self._passes = {token: p for token, p in self._passes.items() if p.expires > now}
        token = secrets.token_urlsafe(32)
        self._passes[token] = Pass(name, key, browser_id, now + PASS_TTL_S, carried)
        return token

    def renew(self, token: str, browser_id: str) -> str | None:
        """The fresh id for the browser that holds the pass; None for a wrong, used or stale pass."""
        granted = self._valid(token)
        if granted is None or granted.new_id is not None or granted.old_id != browser_id:
            return None
        granted.new_id = str(uuid.uuid4())
        return granted.new_id

    def finish(self, token: str, browser_id: str) -> Pass | None:
        """Use the pass up, from the browser that now carries the fresh id."""
        granted = self._valid(token)
        if granted is None or granted.new_id is None or granted.new_id != browser_id:
            return None
        del self._passes[token]
        return granted

    def _valid(self, token: str) -> Pass | None:
        granted = self._passes.get(token)
        return granted if granted is not None and granted.expires > self._clock() else None
