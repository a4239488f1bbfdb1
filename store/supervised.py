"""Background work that outlives its own bugs: an exception nobody expected is logged with its traceback, and
the work starts again after a pause (doubling while it keeps failing); cancellation ends it at once.

Every long-lived task of the app (the journal's writer, the runner feed, autostart, the folder scan, retention,
the database watch, the gateway's activity writer) runs through `supervised`, so one unexpected error costs a log
line, never a part of the app.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

log = logging.getLogger(__name__)

STEADY_AFTER_S = 60.0  # work that ran this long before failing starts again after the first pause


def supervised(name: str, work: Callable[[], Awaitable[object]], *, first_delay_s: float = 0.5,
               max_delay_s: float = 30.0) -> asyncio.Task[None]:
    """A task running `work()` until it returns (done) or the task is cancelled; restarted after a failure."""

    async def keep_running() -> None:
        delay = first_delay_s
        loop = asyncio.get_running_loop()
        while True:
            began = loop.time()
            try:
                await work()
                return
            except Exception:
                if loop.time() - began >= STEADY_AFTER_S:
                    delay = first_delay_s
                log.exception("%s failed; starting it again in %.1f s", name, delay)
                await asyncio.sleep(delay)  # a pause before the next try, so a failing loop cannot spin
                delay = min(delay * 2, max_delay_s)

    return asyncio.create_task(keep_running(), name=name)


@asynccontextmanager
async def in_background(name: str, work: Callable[[], Awaitable[object]]) -> AsyncIterator[asyncio.Task[None]]:
    """`work` supervised while the block runs; cancelled (and awaited) when it ends."""
    task = supervised(name, work)
    try:
        yield task
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
