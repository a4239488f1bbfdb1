"""The one door every forwarded request passes: admitted (the model running, started on demand if need be),
counted while in flight, released when its answer is done.

A request for a model that runs goes straight through. Any other waits in the model's queue (at most
`queue_limit`; beyond it 429 with Retry-After) while the model starts, first making room if it must
(gateway/starts.py, gateway/room.py). The counts live on the model's state, through the deck: the card
shows them, eviction reads them (never a model with requests in flight or waiting), and idle unload counts
from the end of the last one. Whatever is decided, a request is in flight between `admitted` and the end
of its `async with`, and nowhere else.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

from gateway.errors import GatewayError
from gateway.starts import OnDemandStarts, StartFailed
from protocol import ModelStatus
from store import ModelState
from store.actor import Actor

Tick = Callable[[], Awaitable[None]]
QUEUE_RETRY_AFTER_S = b"5"  # a queue is full while a model starts or waits for room: seconds, not minutes


class Admission:
    def __init__(self, starts: OnDemandStarts, start_timeout_s: float, tick_s: float, queue_limit: int) -> None:
        self.starts = starts
        self.deck = starts.deck
        self.start_timeout_s = start_timeout_s
        self.tick_s = tick_s  # how often a waiting client hears that the model is still loading
        self.queue_limit = queue_limit

    @asynccontextmanager
    async def admitted(self, state: ModelState, actor: Actor, tick: Tick | None = None) -> AsyncIterator[None]:
        """Hold the request until its model runs (`tick` every `tick_s` while it waits), then let it through.

        Raises GatewayError 429 when the model's queue is full, 503 when the start fails or takes longer than
        the start timeout."""
        uid = state.uid
        if state.status is ModelStatus.RUNNING:
            self.deck.request_admitted(uid, queued=False)
        else:
            await self._queued(state, actor, tick)
        try:
            yield
        finally:
            self.deck.request_ended(uid)

    async def _queued(self, state: ModelState, actor: Actor, tick: Tick | None) -> None:
        if state.waiting >= self.queue_limit:
            raise GatewayError(429, f"{state.name} has {state.waiting} requests waiting already: try again in a "
                                    "moment", "queue_full", headers=((b"retry-after", QUEUE_RETRY_AFTER_S),))
        self.deck.request_queued(state.uid)
        try:
            await self._until_running(state, actor, tick)
        except BaseException:
            self.deck.request_unqueued(state.uid)
            if not state.waiting:
                self.starts.abandon(state)
            raise
        self.deck.request_admitted(state.uid, queued=True)

    async def _until_running(self, state: ModelState, actor: Actor, tick: Tick | None) -> None:
        waiting = asyncio.ensure_future(self.starts.running(state, actor))
        try:
            async with asyncio.timeout(self.start_timeout_s):
                while not (await asyncio.wait({waiting}, timeout=self.tick_s if tick else None))[0]:
                    assert tick is not None
                    await tick()
                waiting.result()
        except StartFailed as exc:
            raise GatewayError(503, f"{state.name} could not start: {exc}", "model_start_failed") from exc
        except TimeoutError:
            raise GatewayError(503, self._not_ready(state), "model_start_timeout",
                               headers=((b"retry-after", b"5"),)) from None
        finally:
            waiting.cancel()

    def _not_ready(self, state: ModelState) -> str:
        within = f"{self.start_timeout_s:g} s"
        if state.status.can_start:  # it never got its turn: every model that could make room was busy
            limit = self.deck.max_running
            most = f" (at most {limit} run at once)" if limit is not None else ""
            return f"no room for {state.name} within {within}: the models running{most} are all busy"
        return f"{state.name} was not ready within {within} (it may still be loading: try again)"
