"""RunnerFeed: one long-lived WebSocket client task per runner.

It connects, hands every valid event to `on_event` in order, and reconnects. While nothing listens
at the runner's address (connection refused: the runner is restarting; host unreachable) it tries
again every PROBE_INTERVAL_S: such a try costs the runner nothing, and the dashboard is back within
a second of the runner answering again, however long it was away. A runner that answers but fails
(slower than CONNECT_TIMEOUT_S, refuses the handshake, drops the connection, skips events) is
retried with capped exponential backoff and full jitter instead, so a sick runner is not hammered. A reconnect, or a
gap in the sequence numbers, means a fresh snapshot (the runner sends one on every connect), so no
update is lost. Nothing a runner sends, however malformed, ends the task; only cancellation does.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Callable

import aiohttp
from pydantic import ValidationError

from protocol.link import LinkState
from protocol.messages import MAX_FRAME_BYTES, Event, SnapshotEvent, parse_event

log = logging.getLogger(__name__)

PROBE_INTERVAL_S = 0.25
CONNECT_TIMEOUT_S = 10.0  # to the handshake's answer (the session's own default would be 5 minutes)


class NobodyListens(Exception):
    """Nothing listens at the runner's address: try again soon."""


class Backoff:
    """Capped exponential backoff with full jitter; reset after a good connect."""

    def __init__(self, base: float = 0.2, cap: float = 10.0) -> None:
        self.base = base
        self.cap = cap
        self.attempt = 0

    def next_delay(self) -> float:
        delay = random.uniform(0, min(self.cap, self.base * 2 ** self.attempt))
        self.attempt += 1
        return delay

    def reset(self) -> None:
        self.attempt = 0


class SequenceGap(Exception):
    """Events were missed: reconnect for a fresh snapshot."""


class RunnerFeed:
    def __init__(self, url: str, token: str, session: aiohttp.ClientSession, *,
                 on_event: Callable[[Event], None], on_link: Callable[[LinkState], None],
                 heartbeat: float = 5.0, backoff: Backoff | None = None) -> None:
        self.url = url.rstrip("/") + "/v1/events"
        self.token = token
        self.session = session
        self.on_event = on_event
        self.on_link = on_link
        self.heartbeat = heartbeat
        self.backoff = backoff or Backoff()
        self.last_seq: int | None = None
        self.connects = 0

    async def run(self) -> None:
        """Connect, read, reconnect; until cancelled."""
        self.on_link(LinkState.RECONNECTING)
        away = False  # said once per absence, not at every try
        while True:
            try:
                await self._connect_once()
            except asyncio.CancelledError:
                self.on_link(LinkState.NOT_CONNECTED)
                raise
            except NobodyListens as exc:
                if not away:
                    log.info("runner feed: %s; trying again every %.2f s", exc, PROBE_INTERVAL_S)
                away = True
                self.on_link(LinkState.RECONNECTING)
                await asyncio.sleep(PROBE_INTERVAL_S)
                continue
            except SequenceGap as gap:
                log.warning("runner feed: %s; reconnecting for a fresh snapshot", gap)
            except (aiohttp.ClientError, OSError, TimeoutError) as exc:
                log.info("runner feed: %s", exc or exc.__class__.__name__)
            except Exception:  # a bug must not end the feed: log it and reconnect
                log.exception("runner feed failed; reconnecting")
            away = False
            self.on_link(LinkState.RECONNECTING)
            await asyncio.sleep(self.backoff.next_delay())

    async def _connect_once(self) -> None:
        self.last_seq = None
        try:
            async with asyncio.timeout(CONNECT_TIMEOUT_S):
                ws = await self.session.ws_connect(
                    self.url, headers={"Authorization": f"Bearer {self.token}"}, heartbeat=self.heartbeat,
                    max_msg_size=MAX_FRAME_BYTES, timeout=aiohttp.ClientWSTimeout(ws_receive=None, ws_close=2.0))
        except aiohttp.ClientSSLError:
            raise  # something answered, with TLS we refuse
        except aiohttp.ClientConnectorError as exc:
            raise NobodyListens(str(exc)) from exc
        async with ws:
            async for message in ws:
                if message.type is aiohttp.WSMsgType.TEXT:
                    self._receive(message.data)
                elif message.type is aiohttp.WSMsgType.ERROR:
                    raise aiohttp.ClientError(f"WebSocket error: {ws.exception()}")
            # The loop ends on close (the runner went away, a frame was too large, pings were not answered).
            log.info("runner feed closed (code %s)", ws.close_code)

    def _receive(self, frame: str) -> None:
        try:
            event = parse_event(frame)
        except ValidationError as exc:
            log.warning("runner feed: dropped an invalid frame (%d bytes): %s", len(frame), exc.errors()[:1])
            return
        if isinstance(event, SnapshotEvent):
            self.connects += 1
            self.backoff.reset()
            self.on_link(LinkState.CONNECTED)
        elif self.last_seq is None:
            log.warning("runner feed: event before the snapshot dropped")
            return
        elif event.seq != self.last_seq + 1:
            raise SequenceGap(f"expected event {self.last_seq + 1}, got {event.seq}")
        self.last_seq = event.seq
        try:
            self.on_event(event)
        except Exception:  # the store's problem with one event must not cost the connection
            log.exception("runner feed: applying event %d failed", event.seq)
