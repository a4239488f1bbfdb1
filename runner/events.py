"""The event feed: one sequence of numbered events, fanned out to every subscriber.

Each event is serialised once and pushed into every subscriber's bounded queue. A subscriber that
falls `limit` frames behind is cut off (it reconnects and gets a fresh snapshot), so a slow client
never blocks the runner or the other clients, and memory stays bounded.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Callable

from protocol.messages import Event

log = logging.getLogger(__name__)


class Subscription:
    """Frames for one client, in order; `next()` returns None once the client fell too far behind."""

    def __init__(self, limit: int, on_overflow: Callable[[], None] | None = None) -> None:
        self._frames: deque[str] = deque()
        self._limit = limit
        self._wake = asyncio.Event()
        self.overflowed = False
        self.on_overflow = on_overflow

    def push(self, frame: str) -> None:
        if self.overflowed:
            return
        if len(self._frames) >= self._limit:
            self.overflowed = True
            self._frames.clear()
            self._wake.set()
            if self.on_overflow is not None:
                self.on_overflow()
            return
        self._frames.append(frame)
        self._wake.set()

    async def next(self) -> str | None:
        while not self._frames and not self.overflowed:
            self._wake.clear()
            await self._wake.wait()
        if self.overflowed:
            return None
        return self._frames.popleft()


class EventHub:
    """Numbers events (1, 2, 3...) and delivers them; `seq` is the number of the last one sent."""

    def __init__(self, queue_limit: int = 1000) -> None:
        self.seq = 0
        self.queue_limit = queue_limit
        self._subscribers: set[Subscription] = set()

    def publish(self, make: Callable[[int], Event]) -> Event:
        """Build the event with the next sequence number and queue it for every subscriber."""
        self.seq += 1
        event = make(self.seq)
        frame = event.model_dump_json()
        for sub in list(self._subscribers):
            sub.push(frame)
            if sub.overflowed:
                log.warning("an event client fell %d events behind; disconnecting it", self.queue_limit)
                self._subscribers.discard(sub)
        return event

    def subscribe(self, first: str | None = None, on_overflow: Callable[[], None] | None = None) -> Subscription:
        """A new subscriber; `first` (the snapshot frame) is queued before any later event."""
        sub = Subscription(self.queue_limit, on_overflow)
        if first is not None:
            sub.push(first)
        self._subscribers.add(sub)
        return sub

    def unsubscribe(self, sub: Subscription) -> None:
        self._subscribers.discard(sub)

    @property
    def subscriber_count(self) -> int:
        return len(self._subscribers)
