"""The real app as a subprocess, ended by SIGTERM or kill -9 and started again on the same data folder: what
the database and the page say afterwards is the truth."""

from __future__ import annotations

import signal
from pathlib import Path

from protocol.config import ModelConfig, RestartPolicy
from tests.app.app_process import DB_NAME, ended, page_text, query, used_data_folder
from tests.browser.deck_app import DeckApp
from tests.tiny_gguf import write_broken_gguf, write_tiny_llama
from tests.waiting import until


def statuses(db_path: Path) -> dict[str, str]:
    return {row["name"]: row["status"] for row in query(db_path, "SELECT name, status FROM model_config")}


async def test_a_sigterm_writes_the_final_state_of_every_model_it_stopped(tmp_path: Path,
                                                                           llama_server_binary: Path) -> None:
    models = [ModelConfig(name=name, model_path=str(write_tiny_llama(tmp_path / "models" / f"{name}.gguf")),
                          ctx_size=256, threads=1, batch_size=64, autostart=True) for name in ("one", "two")]
    data_dir = await used_data_folder(tmp_path / "data", *models)
    app = DeckApp(tmp_path, llama_server_binary)
    app.start()
    await until(lambda: statuses(data_dir / DB_NAME) == {"one": "running", "two": "running"}, within=30,
                message="both autostarted models running in the database")
    assert app.process is not None
    app.process.send_signal(signal.SIGTERM)
    assert await ended(app, within=5) in {0, -signal.SIGTERM}  # gracefully (uvicorn re-raises it), not cut short
    assert statuses(data_dir / DB_NAME) == {"one": "stopped", "two": "stopped"}, app.output()


async def test_a_restart_pending_when_the_app_was_killed_is_not_shown_as_pending_afterwards(
        tmp_path: Path, llama_server_binary: Path) -> None:
    flaky = ModelConfig(name="flaky", model_path=str(write_broken_gguf(tmp_path / "models" / "flaky.gguf")),
                        ctx_size=256, threads=1, autostart=True, restart_policy=RestartPolicy.ON_FAILURE,
                        restart_limit=5)
    db_path = await used_data_folder(tmp_path / "data", flaky) / DB_NAME
    app = DeckApp(tmp_path, llama_server_binary)
    app.start()
    # Four failures: the runner now waits 4 s before the fourth restart (0.5 s doubling).
    await until(lambda: len(query(db_path, "SELECT id FROM crash")) == 4, within=30, message="four crashes")
    assert app.process is not None
    app.process.kill()
    await ended(app, within=5)
    with_pending = query(db_path, "SELECT status FROM model_config")[0]
    assert with_pending["status"] == "error"
    # Started by hand, as far as the next run knows: nothing starts it at boot.
    query(db_path, "UPDATE model_config SET autostart = 0")
    again = DeckApp(tmp_path, llama_server_binary)
    again.start()
    try:
        await until(lambda: "runner connected" in page_text(again), within=20, message="the runner's snapshot")
        page = page_text(again)
        assert "flaky" in page and "gguf_init_from_reader" in page
        assert "restarting" not in page, "a restart nobody will carry out is shown as pending"
        assert len(query(db_path, "SELECT id FROM crash")) == 4
    finally:
        again.stop()


async def test_a_start_after_the_database_file_vanished_says_so_instead_of_beginning_empty(
        tmp_path: Path, llama_server_binary: Path) -> None:
    kept = ModelConfig(name="kept", model_path=str(write_tiny_llama(tmp_path / "models" / "kept.gguf")))
    db_path = await used_data_folder(tmp_path / "data", kept) / DB_NAME
    db_path.unlink()  # while ModelDeck was not running
    app = DeckApp(tmp_path, llama_server_binary)
    app.launch()
    assert await ended(app, within=20) != 0
    assert (f"ModelDeck cannot start: the database {db_path} is missing, but ModelDeck kept its data there before"
            in app.output())
    assert "--new-database" in app.output()
    assert not db_path.exists()  # nothing empty was put in its place
    fresh = DeckApp(tmp_path, llama_server_binary, env={"MODELDECK_NEW_DATABASE": "1"})
    fresh.start()  # told to: it begins with an empty database
    try:
        assert "No models yet" in page_text(fresh)
    finally:
        fresh.stop()
