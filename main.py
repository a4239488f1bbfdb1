"""ModelDeck's wiring: settings, database, store, runner and pages. Run: python main.py --help."""

from __future__ import annotations

import asyncio
import gc
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta

from nicegui import app, ui
from nicegui.storage import Storage

from auth.first_start import SetupToken, announce, base_url
from auth.gate import Gate, is_loopback
from auth.middleware import SignInRequired
from auth.session_secret import load_or_create_secret
from db.database import open_database
from gateway import Gateway, LocalServers, ThroughRunner, serve_first
from lifespan import install_lifespan
from runner.embedded import start_embedded_runner
from settings import Settings, parse_settings
from store import ModelDeck
from store.activity import Activity, recording
from store.catalog import ModelCatalog
from store.log_history import restore_logs
from store.retention import RetentionPolicy, keeping_history
from store.runner_link import linked_runner
from ui import pwa, toasts
from ui.pages import account, audit, dashboard, discover, keys, login, logs, models, users
from ui.pages import activity as activity_page


@asynccontextmanager
async def runner_address(settings: Settings) -> AsyncIterator[tuple[str, str]]:
    """The standalone runner named in the settings, or an embedded one on loopback for our lifetime."""
    if settings.runner_url:
        yield settings.runner_url, settings.runner_token or ""
        return
    runner = await start_embedded_runner(llama_server=settings.llama_server, model_dirs=settings.allowed_model_dirs)
    try:
        yield runner.url, runner.token
    finally:
        await runner.close()


def build(settings: Settings) -> None:
    deck = ModelDeck()
    history = RetentionPolicy(keep_for=timedelta(days=settings.history_days),
                              log_lines_per_model=settings.log_lines_per_model)
    catalog = ModelCatalog(deck, settings.allowed_model_dirs)
    gate = Gate(open=settings.open_on_loopback and is_loopback(settings.host))
    app.state.gate = gate  # the one gate of this app; tests reach its rate limiter's clock through it
    app.add_middleware(SignInRequired, gate=gate)
    activity = Activity()
    # Servers of the embedded runner are on our loopback; a standalone runner's are reached through it.
    upstream = ThroughRunner(settings.runner_url, settings.runner_token or "") if settings.runner_url else (
        LocalServers())
    gateway = Gateway(deck, gate.keys, activity, open_=gate.open, upstream=upstream,
                      start_timeout_s=settings.start_timeout)
    serve_first(app, gateway)  # /v1/ and /upstream/ never reach NiceGUI's middlewares

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
            first_scan = asyncio.create_task(catalog.scan(), name="first model folder scan")
            try:
                async with (runner_address(settings) as (url, token), linked_runner(deck, url, token),
                            recording(activity), gateway.serving()):
                    yield
            finally:
                first_scan.cancel()

    install_lifespan(app, lifespan)
    # What exists once started (NiceGUI, pydantic, the store) lives as long as the process: frozen, a full
    # garbage collection during a log burst no longer rescans it (200 ms pauses -> a few ms, bench/log_burst.py).
    app.on_startup(gc.freeze)
    dashboard.register(deck, gate.actor)
    logs.register(deck, gate.actor)
    pwa.install()
    toasts.announce_failures(deck.failed)
    models.register(deck, settings.allowed_model_dirs, gate.actor, catalog)
    discover.register(deck, catalog, settings.allowed_model_dirs, gate.actor)
    login.register(gate)
    account.register(gate, deck.link)
    users.register(gate, deck.link)
    audit.register(gate, deck.link)
    keys.register(gate, deck)
    activity_page.register(deck, activity, gate.actor)


def main() -> None:
    simulated = os.environ.get("NICEGUI_USER_SIMULATION") == "true"  # tests: settings from env vars only
    settings = parse_settings([] if simulated else None)
    build(settings)
    Storage.path = settings.data_dir / "sessions"  # who is signed in, kept beside the secret that signs it
    Storage.path.mkdir(mode=0o700, parents=True, exist_ok=True)
    ui.run(host=settings.host, port=settings.port, title="ModelDeck", reload=False, show=False,
           storage_secret=load_or_create_secret(settings.data_dir))


if __name__ in {"__main__", "__mp_main__"}:
    main()
