"""ModelDeck's lifespan: the database, the store, the accounts and the runner, around NiceGUI's own."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from datetime import timedelta
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

Lifespan = Callable[[Any], AbstractAsyncContextManager[Any]]


@asynccontextmanager
async def runner_address(settings: Settings) -> AsyncIterator[tuple[str, str]]:
    """The standalone runner named in the settings, or an embedded one on loopback for our lifetime."""
    if settings.runner_url:
        yield settings.runner_url, settings.runner_token or ""
        return
    runner = await start_embedded_runner(llama_server=settings.llama_server, model_dirs=settings.allowed_model_dirs,
                                         backend=settings.llama_backend)
    try:
        yield runner.url, runner.token
    finally:
        await runner.close()


def modeldeck_lifespan(services: Services, gateway: Gateway) -> Lifespan:
    """Open: migrate and load the database, restore logs, accounts and API keys, scan the model folders in
    the background, link to the runner, open the gateway. Close in reverse: nothing applied is lost."""
    settings, deck, gate = services.settings, services.deck, services.gate
    history = RetentionPolicy(keep_for=timedelta(days=settings.history_days),
                              log_lines_per_model=settings.log_lines_per_model)

    @asynccontextmanager
    async def lifespan(_app: object) -> AsyncIterator[None]:
        async with open_database(settings.db_path), keeping_history(history):
            await deck.load()
            await restore_logs(deck)
            await gate.accounts.load()
            await gate.keys.load()
            if not gate.open:
                gate.setup_token = SetupToken() if gate.accounts.empty else None
                announce(base_url(settings.host, settings.port), gate.setup_token)
            first_scan = asyncio.create_task(services.catalog.scan(), name="first model folder scan")
            try:
                async with (runner_address(settings) as (url, token), linked_runner(deck, url, token),
                            recording(services.activity), gateway.serving()):
                    yield
            finally:
                first_scan.cancel()

    return lifespan


def install_lifespan(app: FastAPI, lifespan: Lifespan) -> None:
    """Run `lifespan` around the app's own (NiceGUI's): ours opens first and closes last."""
    inner = app.router.lifespan_context

    @asynccontextmanager
    async def both(running_app: Any) -> AsyncIterator[Any]:
        async with lifespan(running_app), inner(running_app) as state:
            yield state

    app.router.lifespan_context = both
