"""What is saved stays saved: across restarts, schema upgrades and a database that stops accepting writes."""

from __future__ import annotations

import os
import signal
import sqlite3
from contextlib import closing

from nicegui import ui
from nicegui.testing import User

from db.database import apply_migrations, sqlite_url
from tests.app.conftest import DeckHome
from tests.app.helpers import add_model, fill_form, start_model, tap, uid_of
from tests.processes import llama_servers
from tests.simulation import started_app
from tests.waiting import until


async def test_configurations_and_last_status_survive_a_restart(deck_home: DeckHome) -> None:
    async with started_app() as first:
        await first.open("/")
        await add_model(first, deck_home, "survivor", ctx_size=1024, notes="keep me")
        await add_model(first, deck_home, "crashed", ctx_size=4096)
    # The runner recorded a crash before the app went down (written as the journal would).
    with closing(sqlite3.connect(deck_home.db_path)) as db, db:
        db.execute("UPDATE model_config SET status='error', exit_code=137, reason='killed' WHERE name='crashed'")
    async with started_app() as again:
        await again.open("/")
        await again.should_see("survivor")
        await again.should_see("killed")
        await again.should_see("error")
        uid = uid_of(deck_home, "survivor")
        tap(again, uid, "edit")
        await again.should_see("keep me")
    assert {r["name"]: r["ctx_size"] for r in deck_home.rows()} == {"crashed": 4096, "survivor": 1024}


async def test_an_old_database_is_upgraded_in_place(deck_home: DeckHome) -> None:
    deck_home.data_dir.mkdir()
    await apply_migrations(sqlite_url(deck_home.db_path), target="models.0001_initial")
    with closing(sqlite3.connect(deck_home.db_path)) as db, db:
        assert not db.execute("SELECT name FROM sqlite_master WHERE name='gguf_file'").fetchall()
        db.execute(
            "INSERT INTO model_config (uid, name, model_path, family, ctx_size, gpu_layers, batch_size, parallel,"
            " flash_attn, cache_type_k, cache_type_v, extra_args, env, autostart, restart_policy, restart_limit,"
            " notes, created_at, updated_at, status, last_lines)"
            " VALUES (?, 'from-v1', ?, 'llama', 512, 0, 512, 1, 0, 'f16', 'f16', '[\"--temp\", \"0\"]', '{}', 0,"
            " 'never', 3, '', '2026-01-01 00:00:00+00:00', '2026-01-01 00:00:00+00:00', 'stopped', '[]')",
            ("a" * 32, str(deck_home.model_file)))
    async with started_app() as user:
        await user.open("/")
        await user.should_see("from-v1")
    with closing(sqlite3.connect(deck_home.db_path)) as db:
        assert db.execute("SELECT name FROM sqlite_master WHERE name='gguf_file'").fetchall()
    assert deck_home.row("from-v1")["extra_args"] == '["--temp", "0"]'
    assert deck_home.row("from-v1")["aliases"] == "[]"  # a configuration from before aliases has none


async def test_a_read_only_database_shows_an_error_and_loses_nothing(user: User, deck_home: DeckHome) -> None:
    await user.open("/")
    await add_model(user, deck_home, "saved-before")
    deck_home.db_path.chmod(0o444)
    try:
        user.find(marker="add-model").click()
        await fill_form(user, name="never-saved", model_path=str(deck_home.model_file))
        user.find(marker="form-save").click()
        await user.should_see("never-saved was not saved: the database file")
        await user.should_see("is read-only")
        uid = uid_of(deck_home, "saved-before")
        tap(user, uid, "duplicate")
        await user.should_see("saved-before copy was not saved")
        await user.should_not_see(kind=ui.label, content="saved-before copy", retries=1)
    finally:
        deck_home.db_path.chmod(0o644)
    assert [r["name"] for r in deck_home.rows()] == ["saved-before"]
    # The page kept working: the next save goes through.
    user.find(marker="form-save").click()
    await user.should_see("Saved never-saved", retries=50)  # 5 s when busy
    await until(lambda: [r["name"] for r in deck_home.rows()] == ["never-saved", "saved-before"])


async def test_a_database_file_deleted_under_the_app_is_recreated_with_every_configuration(
        user: User, deck_home: DeckHome) -> None:
    await user.open("/")
    await add_model(user, deck_home, "first", ctx_size=512)
    await add_model(user, deck_home, "second", notes="kept too")
    before = deck_home.rows()
    for suffix in ("", "-wal", "-shm"):  # `rm data/modeldeck.sqlite3*`
        deck_home.db_path.with_name(deck_home.db_path.name + suffix).unlink(missing_ok=True)
    await user.should_see("was deleted while ModelDeck ran; it was recreated", retries=30)  # checked every second
    await until(deck_home.db_path.exists, message="the file recreated")
    assert deck_home.rows() == before
    await user.open("/dashboard")  # on every page
    await user.should_see("was deleted while ModelDeck ran; it was recreated")
    # And it is the file written from now on.
    await user.open("/")
    await add_model(user, deck_home, "third")
    assert [row["name"] for row in deck_home.rows()] == ["first", "second", "third"]


async def test_live_updates_that_cannot_be_saved_are_shown_then_saved_when_the_database_is_back(
        user: User, deck_home: DeckHome) -> None:
    await user.open("/")
    await start_model(user, deck_home, "watched")
    [server] = llama_servers()
    deck_home.db_path.chmod(0o444)
    try:
        os.kill(server.pid, signal.SIGKILL)
        await user.should_see("exit code -9", retries=30)  # the page shows the crash at once
        await user.should_see(marker="database-banner", retries=30)
        await user.should_see("is read-only")
        assert deck_home.row("watched")["status"] == "running"  # not written yet
    finally:
        deck_home.db_path.chmod(0o644)
    await until(lambda: deck_home.row("watched")["status"] == "error", within=10, message="written on retry")
    await user.should_not_see(marker="database-banner", retries=30)
