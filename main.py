"""ModelDeck's wiring: settings, database, store, runner and pages. Run: python main.py --help."""

from __future__ import annotations

import gc
import os
import sys

from nicegui import app, ui
from nicegui.storage import Storage

from api import ManagementApi, SessionApi
from auth.gate import Gate, is_loopback
from auth.middleware import SignInRequired
from auth.session_secret import load_or_create_secret
from db.database import DatabaseUnavailable, check_database
from gateway import Gateway, LocalServers, ThroughRunner, serve_first
from lifespan import install_lifespan, modeldeck_lifespan
from settings import Settings, parse_settings
from store import ModelDeck
from store.catalog import ModelCatalog
from store.ports import HostPorts
from ui import pwa, stylesheet
from ui.page import HEARTBEAT_BASIS_S
from ui.pages import account, activity, audit, dashboard, discover, keys, login, logs, models, users
from ui.services import Services
from ui.theme import name_the_loading_bar

PAGES = (models, discover, dashboard, logs, activity, login, account, keys, users, audit)


def build(settings: Settings) -> Services:
    catalog = ModelCatalog(settings.allowed_model_dirs)
    # A standalone runner's ports are on its machine: only the embedded runner's are ours to check.
    deck = ModelDeck(catalog, max_running=settings.max_running, own_port=settings.port,
                     host_ports=None if settings.runner_url else HostPorts())
    services = Services(deck=deck, catalog=catalog,
                        gate=Gate(open=settings.open_on_loopback and is_loopback(settings.host)), settings=settings)
    app.add_middleware(SignInRequired, gate=services.gate)
    api = ManagementApi(deck, services.gate, settings.db_path)
    app.add_middleware(SessionApi, api=api)  # outside the sign-in gate: the API answers for itself, in JSON
    # Servers of the embedded runner are on our loopback; a standalone runner's are reached through it.
    upstream = ThroughRunner(settings.runner_url, settings.runner_token or "") if settings.runner_url else (
        LocalServers())
    gateway = Gateway(deck, services.gate.keys, services.activity, open_=services.gate.open, upstream=upstream,
                      start_timeout_s=settings.start_timeout, queue_limit=settings.queue_limit)
    serve_first(app, gateway, api)  # /v1/, /upstream/ and keyed /api/ calls never reach NiceGUI's middlewares
    install_lifespan(app, modeldeck_lifespan(services, gateway))
    # What exists once started (NiceGUI, pydantic, the store) lives as long as the process: frozen, a full
    # garbage collection during a log burst no longer rescans it (200 ms pauses -> a few ms, bench/log_burst.py).
    app.on_startup(gc.freeze)
    pwa.install()
    stylesheet.install()
    name_the_loading_bar()
    for page in PAGES:
        page.register(services)
    return services


def main() -> None:
    simulated = os.environ.get("NICEGUI_USER_SIMULATION") == "true"  # tests: settings from env vars only
    settings = parse_settings([] if simulated else None)
    try:  # before anything is served: a folder nobody can write to is said at once, not found out later
        check_database(settings.db_path, new_database=settings.new_database)
    except DatabaseUnavailable as exc:
        sys.exit(f"ModelDeck cannot start: {exc}")
    build(settings)
    Storage.path = settings.data_dir / "sessions"  # who is signed in, kept beside the secret that signs it
    Storage.path.mkdir(mode=0o700, parents=True, exist_ok=True)
    ui.run(host=settings.host, port=settings.port, title="ModelDeck", language="en-US", reload=False, show=False,
           storage_secret=load_or_create_secret(settings.data_dir), reconnect_timeout=HEARTBEAT_BASIS_S,
           tailwind=False)  # ui/stylesheet.py serves the utilities, built ahead


if __name__ in {"__main__", "__mp_main__"}:
    main()
