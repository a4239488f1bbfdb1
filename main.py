"""ModelDeck's wiring: settings, database, store, runner and pages. Run: python main.py --help."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from nicegui import app, ui

from db.database import open_database
from lifespan import install_lifespan
from settings import Settings, parse_settings
from store import ModelDeck
from ui.pages import models


def build(settings: Settings) -> None:
    deck = ModelDeck()

    @asynccontextmanager
    async def lifespan(_app: object) -> AsyncIterator[None]:
        async with open_database(settings.db_path):
            await deck.load()
            yield

    install_lifespan(app, lifespan)
    models.register(deck, settings.allowed_model_dirs)


def main() -> None:
    simulated = os.environ.get("NICEGUI_USER_SIMULATION") == "true"  # tests: settings from env vars only
    settings = parse_settings([] if simulated else None)
    build(settings)
    ui.run(host=settings.host, port=settings.port, title="ModelDeck", reload=False, show=False)


if __name__ in {"__main__", "__mp_main__"}:
    main()
