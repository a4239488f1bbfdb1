"""Requests per minute per model: the gateway's requests that ended in the last minute.

Counting costs an append per request; the deck recounts every few seconds while any request is that
recent, and not at all while the gateway is quiet.
"""

from __future__ import annotations

from collections import deque

WINDOW_S = 60.0
RECOUNT_EVERY_S = 2.0


class RequestRates:
    def __init__(self) -> None:
        self._ended: dict[str, deque[float]] = {}  # uid -> when its recent requests ended (loop time)

    def ended(self, uid: str, now: float) -> None:
        self._ended.setdefault(uid, deque()).append(now)

    def recount(self, now: float) -> dict[str, int]:
        """Each model's count over the window ending now (0 once for a model whose last request left it)."""
        counts = {}
        for uid, ends in list(self._ended.items()):
            while ends and ends[0] <= now - WINDOW_S:
                ends.popleft()
            counts[uid] = len(ends)
            if not ends:
                del self._ended[uid]
        return counts

    def forget(self, uid: str) -> None:
        self._ended.pop(uid, None)

    def __bool__(self) -> bool:
        return bool(self._ended)
