"""The real app, started like a person starts it, on a data folder or database it cannot write: it says why
in plain words at once and exits non-zero. And a SIGTERM ends it within 5 s, even while something hangs."""

from __future__ import annotations

import signal
import sqlite3
from collections.abc import Iterator
from contextlib import closing, contextmanager
from pathlib import Path

import psutil
import pytest

from protocol.config import ModelConfig
from tests.app.app_process import DB_NAME, ended, used_data_folder
from tests.browser.deck_app import DeckApp
from tests.faults import read_only_folder
from tests.processes import gone
from tests.tiny_gguf import write_tiny_llama
from tests.waiting import until


@contextmanager
def locked_by_another_program(db_path: Path) -> Iterator[None]:
    """Another program holding the database's write lock (a rollback journal: readers wait too), as the
    sqlite3 shell does inside a transaction."""
    with closing(sqlite3.connect(db_path, isolation_level=None)) as other:
        other.execute("PRAGMA journal_mode=DELETE")
        other.execute("BEGIN EXCLUSIVE")
        yield
        other.execute("ROLLBACK")


def holds_open(pid: int, path: Path) -> bool:
    try:
        return any(Path(f.path) == path for f in psutil.Process(pid).open_files())
    except psutil.NoSuchProcess:
        return False


@pytest.mark.parametrize("history", ["fresh", "used"])
async def test_a_read_only_data_folder_stops_the_start_at_once_in_plain_words(
        tmp_path: Path, llama_server_binary: Path, history: str) -> None:
    folder = tmp_path / "data"
    folder.mkdir()
    if history == "used":
        await used_data_folder(folder)
    with read_only_folder(folder) as read_only:
        app = DeckApp(tmp_path, llama_server_binary, data_dir=read_only)
        app.launch()
        code = await ended(app, within=20)
    assert code != 0
    assert f"ModelDeck cannot start: the data folder {read_only} cannot be written" in app.output()
    assert "Traceback" not in app.output()


async def test_a_database_locked_by_another_program_stops_the_start_in_plain_words(
        tmp_path: Path, llama_server_binary: Path) -> None:
    data_dir = await used_data_folder(tmp_path / "data")
    with locked_by_another_program(data_dir / DB_NAME):
        app = DeckApp(tmp_path, llama_server_binary)
        app.launch()
        code = await ended(app, within=30)
    assert code != 0
    assert "the database is locked by another program" in app.output(), app.output()


async def test_sigterm_ends_a_start_that_waits_on_a_locked_database(tmp_path: Path, llama_server_binary: Path) -> None:
    data_dir = await used_data_folder(tmp_path / "data")
    with locked_by_another_program(data_dir / DB_NAME):
        app = DeckApp(tmp_path, llama_server_binary)
        process = app.launch()
        await until(lambda: holds_open(process.pid, data_dir / DB_NAME) or process.poll() is not None, within=20,
                    message="the app opened its database")
        process.send_signal(signal.SIGTERM)
        await ended(app, within=5)


async def test_sigterm_ends_the_app_within_5_s_while_a_llama_server_hangs_and_takes_the_server_along(
        tmp_path: Path, llama_server_binary: Path) -> None:
    model = ModelConfig(name="hung", model_path=str(write_tiny_llama(tmp_path / "models" / "hung.gguf")),
                        ctx_size=256, threads=1, batch_size=64, autostart=True)
    await used_data_folder(tmp_path / "data", model)
    app = DeckApp(tmp_path, llama_server_binary)
    app.start()
    assert app.process is not None

    def listening(child: psutil.Process) -> bool:
        """A llama-server loaded and serving (not the runner's short `llama-server --help` read, which may
        end between the listing and this look)."""
        try:
            return child.name() == "llama-server" and bool(child.net_connections())
        except psutil.NoSuchProcess:
            return False

    def server() -> psutil.Process | None:
        children = psutil.Process(app.process.pid).children(recursive=True)  # type: ignore[union-attr]
        return next((child for child in children if listening(child)), None)

    try:
        await until(lambda: server() is not None, within=20, message="the autostarted llama-server listens")
        hung = server()
        assert hung is not None
        hung.suspend()  # SIGSTOP: it cannot act on SIGTERM any more, as if it hung
    except BaseException:
        app.stop()  # no app (and no server) left behind by a failed test
        raise

    app.process.send_signal(signal.SIGTERM)
    await ended(app, within=5)
    await until(lambda: gone(hung.pid), within=2, message="the hung llama-server gone with the app")
