"""A first run (no llama-server anywhere: it is built from tests/tiny_llama_source.py's tiny source, which then
runs the real llama-server): a model added and edited while the build runs, then started, waits for the build
and runs with its edited configuration."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.app.conftest import DeckHome
from tests.app.helpers import add_model, fill_form, see_card, tap, uid_of
from tests.processes import llama_servers
from tests.simulation import started_app
from tests.tiny_llama_source import write_tiny_source
from tests.waiting import until


async def test_a_model_edited_during_the_build_starts_with_its_edited_configuration(
        deck_home: DeckHome, llama_server_binary: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    gate = tmp_path / "gate"
    monkeypatch.delenv("MODELDECK_LLAMA_SERVER")
    monkeypatch.setenv("PATH", "/usr/bin:/bin")  # cmake, ninja, the compiler; no llama-server
    monkeypatch.setenv("MODELDECK_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("MODELDECK_LLAMA_SOURCE", str(write_tiny_source(
        tmp_path / "src.tar.gz", gate=gate, real_server=llama_server_binary)))
    try:
        async with started_app() as user:
            await user.open("/")
            await user.should_see("Building llama-server (CPU)", retries=100)
            await add_model(user, deck_home, "draft", ctx_size=256)
            uid = uid_of(deck_home, "draft")
            tap(user, uid, "edit")
            await fill_form(user, name="edited", ctx_size=512)
            user.find(marker="form-save").click()
            await until(lambda: [(r["uid"], r["ctx_size"]) for r in deck_home.rows()] == [(uid, 512)],
                        message="the edit saved")
            assert deck_home.row("edited")["uid"] == uid

            tap(user, uid, "start")
            await see_card(user, uid, "llama-server is being built (", within=5)
            gate.touch()
            await until(lambda: deck_home.row("edited")["status"] == "running", within=60, message="edited running")
            [server] = llama_servers()
            args = server.cmdline()
            assert args[args.index("--ctx-size") + 1] == "512"  # the edited context, not the one it was added with
    finally:
        gate.touch()  # a build left at its gate would hold the app's shutdown
