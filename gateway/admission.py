"""The one door every forwarded request passes: admitted (the model running, started on demand if need be),
counted while in flight, released when its answer is done.

Scheduling grows here: a per-model queue, the running-models limit and eviction of the least recently
used idle model, idle unload (docs/gateway.md, "Queueing and eviction"). Whatever it decides, a request
is in flight between `admitted` and the end of its `async with`, and nowhere else.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

from gateway.errors import GatewayError
from gateway.starts import OnDemandStarts, StartFailed
from protocol import ModelStatus
from store import ModelState
from store.actor import Actor

Tick = Callable[[], Awaitable[None]]


class Admission:
    def __init__(self, starts: OnDemandStarts, start_timeout_s: float, tick_s: float = 2.0) -> None:
        self.starts = starts
        self.start_timeout_s = start_timeout_s
        self.tick_s = tick_s  # how often a waiting client hears that the model is still loading
        self.in_flight: Counter[str] = Counter()  # uid -> requests admitted and not yet released

    @asynccontextmanager
    async def admitted(self, state: ModelState, actor: Actor, tick: Tick | None = None) -> AsyncIterator[None]:
        """Hold the request until its model runs (`tick` every `tick_s` while it waits), then let it through.

        Raises GatewayError 503 when the start fails or takes longer than the start timeout."""
        self.in_flight[state.uid] += 1
        try:
            if state.status is not ModelStatus.RUNNING:
                await self._until_running(state, actor, tick)
            yield
        finally:
            self.in_flight[state.uid] -= 1
            if not self.in_flight[state.uid]:
                del self.in_flight[state.uid]

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
            raise GatewayError(503, f"{state.name} was not ready within {self.start_timeout_s:g} s "
                                    "(it may still be loading: try again)", "model_start_timeout",
                               headers=((b"retry-after", b"5"),)) from None
        finally:
            waiting.cancel()
