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
from dataclasses import dataclass
from datetime import timedelta
from functools import partial
from types import FrameType
from typing import Any

from fastapi import FastAPI

from auth.first_start import SetupToken, announce, base_url
from db.database import open_database
from gateway import Gateway
from runner.embedded import EmbeddedRunner, start_embedded_runner
from settings import Settings
from store import ModelDeck
from store.activity import recording
from store.database_health import reporting_writes, watch_file
from store.log_history import restore_logs
from store.retention import RetentionPolicy, keeping_history
from store.runner_link import linked_runner
from store.supervised import in_background
from ui.services import Services

log = logging.getLogger(__name__)

Lifespan = Callable[[Any], AbstractAsyncContextManager[Any]]
SHUTDOWN_DEADLINE_S = 4.5  # a SIGTERM ends the process within 5 s, whatever hangs
FINAL_STATES_S = 3.0  # of that, for the models' last states to arrive (a clean stop takes milliseconds)


@dataclass(frozen=True)
class RunnerAddress:
    url: str
    token: str
    embedded: EmbeddedRunner | None = None  # ours: its models end with the app


@asynccontextmanager
async def runner_address(settings: Settings) -> AsyncIterator[RunnerAddress]:
    """The standalone runner named in the settings, or an embedded one on loopback for our lifetime."""
    if settings.runner_url:
        yield RunnerAddress(settings.runner_url, settings.runner_token or "")
        return
    runner = await start_embedded_runner(llama_server=settings.llama_server, model_dirs=settings.allowed_model_dirs,
                                         work_dir=settings.runner_work_dir, backend=settings.llama_backend)
    try:
        yield RunnerAddress(runner.url, runner.token, runner)
    finally:
        await runner.close()


async def final_states_recorded(deck: ModelDeck, runner: RunnerAddress) -> None:
    """At shutdown, before the feed closes: the embedded runner's models stopped, and the deck told so (the
    journal writes it last), within FINAL_STATES_S (a model that hangs is left to ending_on_time). A standalone
    runner's models keep running, and their rows say so."""
    if runner.embedded is None:
        return
    try:
        async with asyncio.timeout(FINAL_STATES_S):
            await runner.embedded.stop_models()
            await deck.settled()
    except TimeoutError:
        log.warning("shutting down: not every model's final state arrived within %.1f s", FINAL_STATES_S)


def modeldeck_lifespan(services: Services, gateway: Gateway) -> Lifespan:
    """Open: migrate and load the database (watched, every write's outcome shown), write the deck's journal
    behind, restore logs, accounts and API keys, scan the model folders in the background, link to the runner,
    record the gateway's activity, open the gateway. Close in reverse, the gateway first, then the embedded
    runner's models stopped while the feed still listens: nothing is lost."""
    settings, deck, gate = services.settings, services.deck, services.gate
    history = RetentionPolicy(keep_for=timedelta(days=settings.history_days),
                              log_lines_per_model=settings.log_lines_per_model)

    @asynccontextmanager
    async def lifespan(_app: object) -> AsyncIterator[None]:
        with reporting_writes(deck.database):
            async with (open_database(settings.db_path, new_database=settings.new_database),
                        in_background("database watch", partial(watch_file, deck.database)),
                        keeping_history(history), deck.journal.writing_behind()):
                await deck.load()
                await restore_logs(deck)
                await gate.accounts.load()
                await gate.keys.load()
                if not gate.open:
                    gate.setup_token = SetupToken() if gate.accounts.empty else None
                    announce(base_url(settings.host, settings.port), gate.setup_token)
                async with (in_background("first model folder scan", deck.scan),
                            runner_address(settings) as runner, linked_runner(deck, runner.url, runner.token),
                            recording(services.activity)):
                    try:
                        async with gateway.serving():
                            yield
                    finally:
                        await final_states_recorded(deck, runner)

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
