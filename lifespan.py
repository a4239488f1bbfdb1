"""ModelDeck's lifespan: the database, the store, the accounts and the runner, around NiceGUI's own;
and, from its start, a SIGTERM that ends the process on time."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import threading
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager, contextmanager
from datetime import timedelta
from types import FrameType
from typing import Any

from fastapi import FastAPI

from auth.first_start import SetupToken, announce, base_url
from db.database import open_database
from gateway import Gateway
from runner.embedded import start_embedded_runner
from settings import Settings
from store.activity import recording
from store.log_history import restore_logs
from store.retention import RetentionPolicy, keeping_history
from store.runner_link import linked_runner
from ui.services import Services

log = logging.getLogger(__name__)

Lifespan = Callable[[Any], AbstractAsyncContextManager[Any]]
SHUTDOWN_DEADLINE_S = 4.5  # a SIGTERM ends the process within 5 s, whatever hangs


@asynccontextmanager
async def runner_address(settings: Settings) -> AsyncIterator[tuple[str, str]]:
    """The standalone runner named in the settings, or an embedded one on loopback for our lifetime."""
    if settings.runner_url:
        yield settings.runner_url, settings.runner_token or ""
        return
    runner = await start_embedded_runner(llama_server=settings.llama_server, model_dirs=settings.allowed_model_dirs,
                                         work_dir=settings.runner_work_dir, backend=settings.llama_backend)
    try:
        yield runner.url, runner.token
    finally:
        await runner.close()


def modeldeck_lifespan(services: Services, gateway: Gateway) -> Lifespan:
    """Open: migrate and load the database, write the deck's journal behind, restore logs, accounts and API keys,
    scan the model folders in the background, link to the runner, open the gateway. Close in reverse: nothing
    is lost."""
    settings, deck, gate = services.settings, services.deck, services.gate
    history = RetentionPolicy(keep_for=timedelta(days=settings.history_days),
                              log_lines_per_model=settings.log_lines_per_model)

    @asynccontextmanager
    async def lifespan(_app: object) -> AsyncIterator[None]:
        async with open_database(settings.db_path), keeping_history(history), deck.journal.writing_behind():
            await deck.load()
            await restore_logs(deck)
            await gate.accounts.load()
            await gate.keys.load()
            if not gate.open:
                gate.setup_token = SetupToken() if gate.accounts.empty else None
                announce(base_url(settings.host, settings.port), gate.setup_token)
            first_scan = asyncio.create_task(deck.scan(), name="first model folder scan")
            try:
                async with (runner_address(settings) as (url, token), linked_runner(deck, url, token),
                            recording(services.activity), gateway.serving()):
                    yield
            finally:
                first_scan.cancel()

    return lifespan


def install_lifespan(app: FastAPI, lifespan: Lifespan) -> None:
    """Run `lifespan` around the app's own (NiceGUI's): ours opens first and closes last; while they run,
    a SIGINT or SIGTERM ends the process on time."""
    inner = app.router.lifespan_context

    @asynccontextmanager
    async def both(running_app: Any) -> AsyncIterator[Any]:
        with ending_on_time():
            async with lifespan(running_app), inner(running_app) as state:
                yield state

    app.router.lifespan_context = both


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
