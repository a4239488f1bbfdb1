"""Configurations as data on the models page: a card's History and its restore, Import with a preview, Export,
the database backup, select mode with bulk actions, and a pasted llama-server command line in the Add form."""

from __future__ import annotations

import json
import sqlite3
import time

import psutil
from nicegui import ui
from nicegui.testing import User

from tests.app.conftest import DeckHome
from tests.app.helpers import add_model, fill_form, see_card, start_model, tap, uid_of
from tests.exchange.test_readers import FILES
from tests.processes import llama_servers
from tests.waiting import until


async def edit(user: User, home: DeckHome, name: str, **values: object) -> None:
    uid = uid_of(home, name)
    tap(user, uid, "edit")
    await fill_form(user, **values)
    user.find(marker="form-save").click()
    await until(lambda: all(home.row(name)[field] == value for field, value in values.items()),
                message=f"{name} saved with {values}")


async def test_history_shows_an_edits_diff_and_restores_it_as_a_new_version(user: User, deck_home: DeckHome) -> None:
    await user.open("/")
    await add_model(user, deck_home, "qwen", ctx_size=2048)
    await edit(user, deck_home, "qwen", ctx_size=8192, threads=4)
    uid = uid_of(deck_home, "qwen")
    tap(user, uid, "history")
    await user.should_see("Version 2 · edit by local: ctx_size, threads")
    await user.should_see("Version 1 · create by local")
    with user:  # the diff: old value, then new
        entry = next(iter(user.find(marker="version-2").elements))
        texts = [element.text for element in entry.descendants() if isinstance(element, ui.label)]
    assert ["context size", "2048", "8192", "threads", "automatic", "4"] == texts[2:]

    user.find(marker="restore-1").click()
    await until(lambda: deck_home.row("qwen")["ctx_size"] == 2048, message="version 1 back")
    assert deck_home.row("qwen")["threads"] is None
    await user.should_see("Version 3 · restore of version 1 by local: ctx_size, threads")
    audit = [row["action"] for row in _rows(deck_home, "SELECT action FROM audit_log ORDER BY id")]
    assert audit == ["model.create", "model.update", "model.update"]


def _rows(home: DeckHome, sql: str) -> list[sqlite3.Row]:
    with sqlite3.connect(home.db_path) as db:
        db.row_factory = sqlite3.Row
        return list(db.execute(sql))


async def test_restoring_a_running_models_start_settings_asks_to_restart_with_them(
        user: User, deck_home: DeckHome) -> None:
    await user.open("/")
    uid = await start_model(user, deck_home, "runner")  # ctx 256
    await edit(user, deck_home, "runner", ctx_size=512)  # saved; the running server keeps 256 until a restart
    [before] = llama_servers()
    tap(user, uid, "history")
    await user.should_see(marker="restore-1")
    user.find(marker="restore-1").click()
    await user.should_see("changes how it starts (ctx_size)")
    assert deck_home.row("runner")["ctx_size"] == 512, "nothing restored before the answer"
    user.find(marker="confirm-ok").click()  # Restart with it

    def restarted_with_256() -> bool:
        servers = llama_servers()
        return (len(servers) == 1 and servers[0].pid != before.pid and _ctx_of(servers[0]) == "256"
                and deck_home.row("runner")["status"] == "running")

    await until(restarted_with_256, within=30, message="restarted with version 1's context size")
    assert deck_home.row("runner")["ctx_size"] == 256


def _ctx_of(server: psutil.Process) -> str:
    args = server.cmdline()
    return args[args.index("--ctx-size") + 1]


async def test_import_previews_then_applies_and_export_downloads_the_document(user: User, deck_home: DeckHome) -> None:
    await user.open("/")
    tiny = deck_home.models_dir / "qwen2.5-coder-7b.gguf"
    tiny.write_bytes(deck_home.model_file.read_bytes())
    text = (FILES / "llama-swap.yaml").read_text().replace("/srv/models", str(deck_home.models_dir))
    user.find(marker="files-menu").click()
    user.find(marker="import").click()
    user.find(marker="import-text").type(text)
    await preview_once_ready(user)
    await user.should_see("llama-swap file: 1 new, 3 refused")
    await user.should_see("refused: extra arguments: -hf (--hf-repo) is not allowed: it downloads models or files")
    await user.should_see("--host 127.0.0.1 left out")  # the notes of the model the file sets up
    assert deck_home.rows() == [], "a preview changes nothing"
    user.find("Import 1 model").click()
    await until(lambda: [row["name"] for row in deck_home.rows()] == ["qwen-coder"], message="qwen-coder imported")
    assert deck_home.rows()[0]["unload_when_idle_s"] == 300  # its ttl
    await see_card(user, uid_of(deck_home, 'qwen-coder'))

    user.find(marker="files-menu").click()
    user.find(marker="export-all").click()
    exported = json.loads((await user.download.next()).content)
    assert exported["format"] == "modeldeck-configurations"
    assert [config["name"] for config in exported["configurations"]] == ["qwen-coder"]

    user.find(marker="files-menu").click()
    user.find(marker="backup").click()
    backup = await user.download.next(timeout=10)
    assert backup.status_code == 200 and backup.content.startswith(b"SQLite format 3\x00")


async def preview_once_ready(user: User) -> None:
    """Press Preview until it shows one (the runner sends its flags just after it connects; until then the
    dialog says to try again in a moment)."""
    deadline = time.monotonic() + 15
    while True:
        user.find(marker="import-preview-button").click()
        try:
            await user.should_see(marker="import-counts", retries=2)
            return
        except AssertionError:
            if time.monotonic() > deadline:
                raise


async def test_select_mode_acts_on_each_model_and_reports_each_result(user: User, deck_home: DeckHome) -> None:
    await user.open("/")
    for name in ("a", "b", "c"):
        await add_model(user, deck_home, name, ctx_size=256, threads=1)
    for name in ("a", "b"):
        tap(user, uid_of(deck_home, name), "start")
    await until(lambda: [r["status"] for r in deck_home.rows()] == ["running", "running", "stopped"], within=30,
                message="a and b running")
    user.find(marker="select-mode").click()
    user.find(marker="select-shown").click()
    await user.should_see("3 selected")
    user.find(marker="bulk-delete").click()
    await user.should_see("Delete 3 models (a, b, c)?")
    user.find(marker="confirm-ok").click()
    await user.should_see("Delete 3 models: 1 of 3 done")
    await user.should_see("a: stop a before deleting it")
    await until(lambda: [r["name"] for r in deck_home.rows()] == ["a", "b"], message="c deleted, a and b kept")
    await user.should_see("2 selected")  # the refused ones stay selected, to act on next
    user.find(marker="bulk-stop").click()
    user.find(marker="confirm-ok").click()
    await user.should_see("Stop 2 models: 2 of 2 done")
    await until(lambda: [r["status"] for r in deck_home.rows()] == ["stopped", "stopped"], within=15,
                message="a and b stopped")
    user.find(marker="select-done").click()
    await user.should_not_see(marker="select-bar")


async def test_a_pasted_command_line_fills_the_add_form(user: User, deck_home: DeckHome) -> None:
    await user.open("/")
    user.find(marker="add-model").click()
    user.find(marker="paste-text").type("llama-server -c abc")
    await until(lambda: _fill(user), within=15, message="the runner's flags, then a refusal")
    await user.should_see("context size: 'abc' is not a whole number")
    user.find(marker="paste-text").clear().type(
        f"/opt/llama.cpp/llama-server -m {deck_home.model_file} -c 8192 -ngl 99 -fa on --host 0.0.0.0 --port 9123 "
        "--temp 0.7 --jinja -a qwen-chat")
    user.find(marker="paste-fill").click()
    await user.should_see("--host 0.0.0.0 left out: ModelDeck sets it itself")
    await fill_form(user, name="pasted")
    user.find(marker="form-save").click()
    await until(lambda: any(row["name"] == "pasted" for row in deck_home.rows()), message="saved")
    row = deck_home.row("pasted")
    assert (row["model_path"], row["ctx_size"], row["gpu_layers"], row["flash_attn"], row["port"]) == (
        str(deck_home.model_file), 8192, 99, 1, 9123)
    assert (json.loads(row["extra_args"]), json.loads(row["aliases"])) == (["--temp", "0.7", "--jinja"],
                                                                           ["qwen-chat"])


def _fill(user: User) -> bool:
    """Press Fill until the runner's flags have arrived (the first press may come before them)."""
    user.find(marker="paste-fill").click()
    with user:
        box = next(iter(user.find(marker="paste-text").elements))
    assert isinstance(box, ui.textarea)
    return bool(box.error) and "runner has not said" not in str(box.error)
