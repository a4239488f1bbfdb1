"""A deck of many configurations, written into a fresh database before ModelDeck starts (through the app's own
migrations and ORM, so the schema is the real one): for the browser tests and the bench of a crowded page."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from db.database import open_database
from db.model_record import ModelRecord
from protocol import ModelConfig
from tests.browser.deck_app import DeckApp
from tests.tiny_gguf import write_tiny_llama


def name_of(index: int) -> str:
    return f"model-{index:04d}"


async def _seed(db_path: Path, model_file: Path, count: int) -> None:
    async with open_database(db_path):
        await ModelRecord.bulk_create([
            ModelRecord(**ModelRecord.config_values(ModelConfig(
                name=name_of(index), model_path=str(model_file), family="llama", ctx_size=256, threads=1)))
            for index in range(count)], batch_size=500)


def crowd(home: Path, count: int) -> Path:
    """`count` configurations of the tiny model (model-0000, model-0001, ...) in home/data; the model file."""
    model_file = Path(write_tiny_llama(home / "models" / "tiny.gguf"))
    asyncio.run(_seed(home / "data" / "modeldeck.sqlite3", model_file, count))
    return model_file


@contextmanager
def crowded_app(home: Path, count: int, binary: Path, *, within: float = 120) -> Iterator[DeckApp]:
    """ModelDeck started on a deck of `count` configurations in `home`; stopped at the end."""
    crowd(home, count)
    app = DeckApp(home, binary)
    app.start(within=within)
    try:
        yield app
    finally:
        app.stop()
