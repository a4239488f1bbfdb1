"""Extra arguments and environment from the runner's allowlist, as a person meets it in the form and on a card."""

from __future__ import annotations

import json
import shlex
import sqlite3
from contextlib import closing
from pathlib import Path

from nicegui import ui
from nicegui.testing import User

from db.database import apply_migrations, sqlite_url
from tests.app.conftest import DeckHome
from tests.app.helpers import add_model, fill_form, open_flag_list, see_card, see_no_card, tap, uid_of
from tests.processes import llama_servers
from tests.simulation import started_app
from tests.waiting import until


def field(user: User, name: str) -> ui.input:
    element = next(iter(user.find(marker=f"field-{name}").elements))
    assert isinstance(element, ui.input)
    return element


async def test_the_form_offers_the_allowed_flags_and_adds_the_one_tapped(user: User, deck_home: DeckHome) -> None:
    await user.open("/")
    user.find(marker="add-model").click()
    await open_flag_list(user)
    await user.should_see("Sampling")  # flags come by category
    await user.should_see(marker="flag---lora")
    await user.should_not_see(marker="flag---mcp-servers-json", retries=1)
    await user.should_not_see(marker="flag---host", retries=1)
    field(user, "extra_args").value = "--ctx-checkpoints 4"
    user.find(marker="flag---temp").click()
    assert field(user, "extra_args").value == "--ctx-checkpoints 4 --temp"
    await open_flag_list(user, "variables")
    await user.should_not_see(marker="variable-LD_PRELOAD", retries=1)
    user.find(marker="variable-CUDA_VISIBLE_DEVICES").click()
    assert field(user, "env").value == "CUDA_VISIBLE_DEVICES="
    user.find(marker="field-extra_args").type(" 0.7")
    field(user, "env").value = "CUDA_VISIBLE_DEVICES=0"
    user.find(marker="field-name").type("tuned")
    user.find(marker="field-model_path").type(str(deck_home.model_file))
    user.find(marker="form-save").click()
    await user.should_see("Saved tuned", retries=50)  # a save writes to disk: 5 s when busy
    row = deck_home.row("tuned")
    assert json.loads(row["extra_args"]) == ["--ctx-checkpoints", "4", "--temp", "0.7"]
    assert json.loads(row["env"]) == {"CUDA_VISIBLE_DEVICES": "0"}


def write_old_rows(home: DeckHome, canary: Path) -> dict[str, tuple[list[str], dict[str, str]]]:
    """Rows as a ModelDeck from before the allowlist would have saved them (its denylist let these through)."""
    mcp = json.dumps({"mcpServers": {"x": {"command": "touch", "args": [str(canary)]}}})
    rows = {"old-tools": (["--temp", "0", "--mcp-servers-json", mcp], {}),
            "old-preload": (["--temp", "0"], {"LD_PRELOAD": "/tmp/evil.so"}),
            "old-fine": (["--temp", "0"], {"OMP_NUM_THREADS": "1"})}
    with closing(sqlite3.connect(home.db_path)) as db, db:
        for number, (name, (args, env)) in enumerate(rows.items()):
            db.execute(
                "INSERT INTO model_config (uid, name, model_path, family, ctx_size, gpu_layers, batch_size, parallel,"
                " flash_attn, cache_type_k, cache_type_v, extra_args, env, autostart, restart_policy, restart_limit,"
                " notes, created_at, updated_at, status, last_lines)"
                " VALUES (?, ?, ?, 'llama', 256, 0, 64, 1, 0, 'f16', 'f16', ?, ?, 0, 'never', 3, 'kept',"
                " '2026-01-01 00:00:00+00:00', '2026-01-01 00:00:00+00:00', 'stopped', '[]')",
                (f"{number + 1:032x}", name, str(home.model_file), json.dumps(args), json.dumps(env)))
    return rows


async def test_a_configuration_saved_before_the_allowlist_loads_and_says_why_it_cannot_start(
        deck_home: DeckHome, tmp_path: Path) -> None:
    deck_home.data_dir.mkdir()
    await apply_migrations(sqlite_url(deck_home.db_path))
    canary = tmp_path / "PWNED"
    rows = write_old_rows(deck_home, canary)
    async with started_app() as user:
        await user.open("/")
        tools, preload, fine = (uid_of(deck_home, name) for name in rows)
        await user.should_see("old-tools")
        await see_card(user, tools, "Cannot start")
        await user.should_see("Cannot start: --mcp-servers-json is not allowed: it runs programs or tools. "
                              "Edit it to fix.")
        await user.should_see("Cannot start: LD_PRELOAD cannot be set for a model")
        await see_no_card(user, fine, "Cannot start", within=0.1)

        tap(user, tools, "start")
        await user.should_see("old-tools cannot start: --mcp-servers-json is not allowed")
        assert deck_home.row("old-tools")["status"] == "stopped"
        assert llama_servers() == [] and not canary.exists()

        tap(user, tools, "edit")
        assert field(user, "extra_args").value == shlex.join(rows["old-tools"][0])  # nothing lost
        assert field(user, "extra_args").error == "--mcp-servers-json is not allowed: it runs programs or tools"
        await fill_form(user, extra_args="--temp 0")
        user.find(marker="form-save").click()
        await user.should_see("Saved old-tools", retries=50)
        await see_no_card(user, tools, "Cannot start", within=0.1)

        tap(user, preload, "edit")
        assert field(user, "env").error == "LD_PRELOAD cannot be set for a model: only device, thread and " \
                                           "reviewed GGML_* variables can"
        assert field(user, "env").value == "LD_PRELOAD=/tmp/evil.so"
        user.find(marker="form-cancel").click()

        tap(user, fine, "start")
        await until(lambda: deck_home.row("old-fine")["status"] == "running", within=15, message="old-fine running")
    assert json.loads(deck_home.row("old-preload")["env"]) == {"LD_PRELOAD": "/tmp/evil.so"}  # kept as it was
    assert deck_home.row("old-tools")["notes"] == "kept"
    assert not canary.exists()


async def test_a_refused_argument_is_explained_next_to_the_field_and_nothing_is_saved(
        user: User, deck_home: DeckHome) -> None:
    await user.open("/")
    await add_model(user, deck_home, "first")
    uid = uid_of(deck_home, "first")
    tap(user, uid, "edit")
    await open_flag_list(user)
    user.find(marker="flag-help-close").click()
    await fill_form(user, extra_args="--temp 0.5 --tools all")
    user.find(marker="form-save").click()
    await user.should_see("Please correct the marked fields")
    assert field(user, "extra_args").error == "--tools is not allowed: it runs programs or tools"
    assert field(user, "extra_args").value == "--temp 0.5 --tools all"  # what was typed stays
    assert json.loads(deck_home.row("first")["extra_args"]) == []
