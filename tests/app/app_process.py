"""The real app as a subprocess (python main.py), on a data folder the test prepared, read past the app."""

from __future__ import annotations

import sqlite3
import urllib.request
from contextlib import closing
from pathlib import Path
from typing import Any

from auth.session_secret import load_or_create_secret
from db.database import open_database
from db.model_record import ModelRecord
from protocol.config import ModelConfig
from tests.browser.deck_app import DeckApp
from tests.waiting import until

DB_NAME = "modeldeck.sqlite3"


async def used_data_folder(data_dir: Path, *models: ModelConfig) -> Path:
    """A data folder as a first run leaves it: the migrated database (with these models), secret, sessions."""
    async with open_database(data_dir / DB_NAME):
        for config in models:
            await ModelRecord.create(**ModelRecord.config_values(config))
    load_or_create_secret(data_dir)
    (data_dir / "sessions").mkdir(mode=0o700)
    return data_dir


async def ended(app: DeckApp, within: float) -> int:
    """The app's exit code, once it has exited (it is killed, and the test fails, if not within `within` s)."""
    process = app.process
    assert process is not None
    try:
        await until(lambda: process.poll() is not None, within=within, message="ModelDeck exited")
    except AssertionError:
        process.kill()
        process.wait()
        raise AssertionError(f"ModelDeck still ran after {within} s:\n{app.output()}") from None
    return process.returncode


def query(db_path: Path, sql: str, *parameters: object) -> list[dict[str, Any]]:
    """Rows read (or a change made) past the app, committed."""
    with closing(sqlite3.connect(db_path)) as db, db:
        db.row_factory = sqlite3.Row
        return [dict(row) for row in db.execute(sql, parameters)]


def page_text(app: DeckApp, path: str = "/") -> str:
    """The page as the app serves it (NiceGUI puts every element's text in the first answer)."""
    with urllib.request.urlopen(app.url + path, timeout=10) as answer:
        return str(answer.read().decode())
