"""Installing ModelDeck's lifespan (database, store, runner) around NiceGUI's own, and ending on time.

Tests run main.py once per test on the same FastAPI app object; keeping NiceGUI's original
lifespan aside means each run replaces the previous wiring instead of stacking on it.
"""

from __future__ import annotations

import logging
import os
import signal
import threading
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager, contextmanager
from types import FrameType
from typing import Any

from fastapi import FastAPI
from fastapi.routing import _merge_lifespan_context

log = logging.getLogger(__name__)

Lifespan = Callable[[Any], AbstractAsyncContextManager[Any]]
_nicegui_lifespans: dict[int, Lifespan] = {}
SHUTDOWN_DEADLINE_S = 4.5  # a SIGTERM ends the process within 5 s, whatever hangs


def install_lifespan(app: FastAPI, lifespan: Lifespan) -> None:
    """Run `lifespan` around NiceGUI's startup and shutdown: ours opens first and closes last, and from its
    start a SIGTERM ends the process on time."""
    base = _nicegui_lifespans.setdefault(id(app), app.router.lifespan_context)

    @asynccontextmanager
    async def on_time(app: Any) -> AsyncIterator[None]:
        with ending_on_time():
            async with lifespan(app):
                yield

    app.router.lifespan_context = _merge_lifespan_context(on_time, base)  # type: ignore[arg-type]


@contextmanager
def ending_on_time(deadline_s: float = SHUTDOWN_DEADLINE_S) -> Iterator[None]:
    """While open, SIGINT or SIGTERM ends the process within `deadline_s`, even when the graceful way hangs.

    uvicorn's handler (installed before the lifespan starts) still begins the graceful shutdown, but it
    only sets a flag: a start that waits on something, or a llama-server that ignores its SIGTERM, would
    keep the process alive. A timer thread armed by the first signal exits hard at the deadline; the
    runner's servers die with the process (runner/lifeline.py)."""
    if threading.current_thread() is not threading.main_thread():  # signals reach the main thread only
        yield
        return
    signals = (signal.SIGINT, signal.SIGTERM)
    previous = {sig: signal.getsignal(sig) for sig in signals}
    armed: list[threading.Timer] = []

    def on_signal(signum: int, frame: FrameType | None) -> None:
        if not armed:
            armed.append(threading.Timer(deadline_s, _exit_now, args=(signum, deadline_s)))
            armed[0].daemon = True
            armed[0].start()
        handler = previous[signal.Signals(signum)]
        if callable(handler):
            handler(signum, frame)
        else:  # nobody handled it before us: deliver it as it would have been
            signal.signal(signum, handler)
            signal.raise_signal(signum)

    for sig in signals:
        signal.signal(sig, on_signal)
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _exit_now(signum: int, deadline_s: float) -> None:
    log.error("ModelDeck has not ended %.1f s after %s; exiting now", deadline_s, signal.Signals(signum).name)
    logging.shutdown()
    os._exit(128 + signum)
