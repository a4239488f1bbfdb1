"""Sign-in rate limiting: at most N failures per window, counted per client address and per user name.

The clock is passed in (a monotonic one), so tests move time instead of waiting for it.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Limits:
    failures: int = 5
    window_s: float = 60.0


SIGN_IN_LIMITS = Limits()
MAX_KEYS = 10_000  # beyond this, keys without a recent failure are forgotten


class RateLimiter:
    def __init__(self, limits: Limits = SIGN_IN_LIMITS, clock: Callable[[], float] = time.monotonic) -> None:
        self.limits = limits
        self.clock = clock
        self._failures: dict[str, deque[float]] = {}

    def wait_s(self, *keys: str) -> float:
        """Seconds until another try is allowed for all of these keys (0: allowed now)."""
        now = self.clock()
        wait = 0.0
        for key in keys:
            recent = self._recent(key, now)
            if len(recent) >= self.limits.failures:
                wait = max(wait, recent[-self.limits.failures] + self.limits.window_s - now)
        return wait

    def failed(self, *keys: str) -> None:
        now = self.clock()
        for key in keys:
            self._recent(key, now).append(now)
        if len(self._failures) > MAX_KEYS:
            expired = now - self.limits.window_s
            for key in [k for k, times in self._failures.items() if not times or times[-1] <= expired]:
                del self._failures[key]

    def forget(self, *keys: str) -> None:
        """A success clears the failures counted against these keys."""
        for key in keys:
            self._failures.pop(key, None)

    def _recent(self, key: str, now: float) -> deque[float]:
        times = self._failures.setdefault(key, deque())
        while times and times[0] <= now - self.limits.window_s:
            times.popleft()
        return times
