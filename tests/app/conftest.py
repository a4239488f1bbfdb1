"""An isolated ModelDeck home per test: data folder, model folder with a real tiny GGUF, env vars."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from nicegui import core
from nicegui.testing import User

from tests.tiny_gguf import write_tiny_llama


@dataclass
class DeckHome:
    data_dir: Path
    models_dir: Path
    model_file: Path

    @property
    def db_path(self) -> Path:
        return self.data_dir / "modeldeck.sqlite3"

    def rows(self) -> list[dict[str, Any]]:
        """The model rows as the SQLite file holds them, read past the app."""
        with closing(sqlite3.connect(self.db_path)) as db:
            db.row_factory = sqlite3.Row
            return [dict(row) for row in db.execute("SELECT * FROM model_config ORDER BY name")]

    def row(self, name: str) -> dict[str, Any]:
        matches = [row for row in self.rows() if row["name"] == name]
        assert matches, f"no row named {name!r}"
        return matches[0]


def make_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, host: str) -> DeckHome:
    """A data folder and a model folder holding one real tiny model, named to the app by env vars."""
    models_dir = tmp_path / "models"
    models_dir.mkdir()
    model_file = write_tiny_llama(models_dir / "tiny.gguf")
    monkeypatch.setenv("MODELDECK_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("MODELDECK_MODEL_DIRS", str(models_dir))
    monkeypatch.setenv("MODELDECK_HOST", host)
    return DeckHome(tmp_path / "data", models_dir, Path(model_file))


@pytest.fixture(autouse=True)
def deck_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, llama_server_binary: Path) -> DeckHome:
    """Loopback (no sign-in), and the real llama-server, so any test may start a model."""
    monkeypatch.setenv("MODELDECK_LLAMA_SERVER", str(llama_server_binary))
    return make_home(tmp_path, monkeypatch, "127.0.0.1")


@pytest.fixture
def second_user(user: User) -> User:
    """Another browser on the same running app."""
    return User(httpx.AsyncClient(transport=httpx.ASGITransport(core.app), base_url="http://test"))


@pytest.fixture
def quick_rescan(monkeypatch: pytest.MonkeyPatch) -> None:
    """The app looks at its model folders every 0.2 s (5 s by default): ask for it before `user`."""
    monkeypatch.setenv("MODELDECK_RESCAN_SECONDS", "0.2")
