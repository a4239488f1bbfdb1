"""Fixtures every test folder may use: the real llama-server binary and tiny GGUF models."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path

import pytest

from db.database import open_database
from protocol.flags import FlagCatalog
from tests import simulation
from tests.faults import SmallFilesystem, small_filesystem
from tests.tiny_gguf import write_tiny_llama


@pytest.fixture(scope="session")
def llama_server_binary() -> Path:
    """The real llama-server (flag/env/PATH/cache; built from source once if there is none)."""
    from runner.binary import resolve_binary  # noqa: PLC0415 - only tests that need a server pay for it

    return resolve_binary()


@pytest.fixture(scope="session")
def flag_catalog(llama_server_binary: Path, tmp_path_factory: pytest.TempPathFactory) -> FlagCatalog:
    """The real binary's flags with ModelDeck's reviewed decision on each (what GET /v1/flags serves)."""
    from runner.flag_catalog import read_catalog  # noqa: PLC0415 - as above

    return asyncio.run(read_catalog(llama_server_binary, cwd=tmp_path_factory.mktemp("catalog")))


@pytest.fixture
def tiny_model(tmp_path: Path) -> Callable[..., Path]:
    """Factory: tiny_model("name.gguf", **write_tiny_llama options) -> path under tmp_path/models."""

    def make(name: str = "tiny.gguf", **options: object) -> Path:
        return write_tiny_llama(tmp_path / "models" / name, **options)  # type: ignore[arg-type]

    return make


@pytest.fixture(autouse=True)
def fresh_app() -> None:
    """NiceGUI's `user` fixture runs main.py on the app NiceGUI made, with NiceGUI's own lifespan."""
    simulation.fresh_app()


@pytest.fixture
def small_fs(tmp_path: Path) -> Iterator[SmallFilesystem]:
    """A tmpfs of a few MiB (tests/faults.py) to fill and free; skips where mounting is not allowed."""
    with small_filesystem(tmp_path / "small") as fs:
        yield fs


@pytest.fixture
async def db_on_small_fs(small_fs: SmallFilesystem) -> AsyncIterator[Path]:
    """The app's database, open, on `small_fs`."""
    path = small_fs.path / "modeldeck.sqlite3"
    async with open_database(path):
        yield path
