"""Start and Stop end to end: the page, the embedded runner, a real llama-server and the SQLite row."""

from __future__ import annotations

import asyncio
import os
import signal
import socket

import pytest
from nicegui.testing import User

from tests.app.conftest import DeckHome
from tests.app.helpers import add_model, see_card, start_model, tap, uid_of
from tests.processes import llama_servers
from tests.simulation import started_app
from tests.waiting import until


async def test_start_and_stop_reach_every_browser_and_the_database(user: User, second_user: User,
                                                                    deck_home: DeckHome) -> None:
    await user.open("/")
    await second_user.open("/")
    await user.should_see("runner connected")
    uid = await start_model(user, deck_home, "live")  # waits for running in the DB
    await second_user.should_see("running")
    [server] = llama_servers()
    assert "--port" in server.cmdline()
    tap(second_user, uid, "stop")
    await until(lambda: deck_home.row("live")["status"] == "stopped", within=10, message="stopped in the DB")
    await user.should_see("stopped")
    await until(lambda: not llama_servers(), message="the process is gone")


async def test_a_killed_server_shows_error_with_exit_code_within_a_second(user: User, deck_home: DeckHome) -> None:
    await user.open("/")
    uid = await start_model(user, deck_home, "victim")
    [server] = llama_servers()
    os.kill(server.pid, signal.SIGKILL)
    loop = asyncio.get_running_loop()
    killed_at = loop.time()
    await see_card(user, uid, "exit code", within=2)  # within 2 s at worst
    shown_after = loop.time() - killed_at
    await user.should_see("exit code -9")
    assert shown_after < 1.0, f"the crash took {shown_after:.2f} s to reach the card"
    await until(lambda: deck_home.row("victim")["exit_code"] == -9, message="the crash in the DB")
    assert deck_home.row("victim")["status"] == "error"
    tap(user, uid, "details")
    await user.should_see("Exit code -9")


async def test_two_browsers_pressing_start_together_start_one_process(user: User, second_user: User,
                                                                       deck_home: DeckHome) -> None:
    await user.open("/")
    await second_user.open("/")
    await user.should_see("runner connected")
    await add_model(user, deck_home, "shared", ctx_size=256)
    uid = uid_of(deck_home, "shared")
    await second_user.should_see("shared")
    tap(user, uid, "start")
    tap(second_user, uid, "start")
    await until(lambda: deck_home.row("shared")["status"] == "running", within=15)
    # The second click was refused ("shared is already starting") or found its button already
    # disabled, depending on which click the server handled first; either way one server runs.
    await second_user.should_see("running")
    assert len(llama_servers()) == 1


async def test_a_missing_model_file_ends_in_error_with_the_reason(user: User, deck_home: DeckHome) -> None:
    await user.open("/")
    await user.should_see("runner connected")
    await add_model(user, deck_home, "vanishing", ctx_size=256)
    uid = uid_of(deck_home, "vanishing")
    deck_home.model_file.unlink()
    tap(user, uid, "start")
    await user.should_see("no such file")
    await until(lambda: deck_home.row("vanishing")["status"] == "error")
    assert not llama_servers()


async def test_a_start_the_runner_cannot_receive_is_refused_and_says_why(deck_home: DeckHome,
                                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MODELDECK_RUNNER_URL", f"http://127.0.0.1:{free_port()}")  # nobody listens there
    monkeypatch.setenv("MODELDECK_RUNNER_TOKEN", "irrelevant")
    async with started_app() as user:
        await user.open("/")
        await user.should_see("runner reconnecting")
        await add_model(user, deck_home, "unreachable", ctx_size=256)
        uid = uid_of(deck_home, "unreachable")
        tap(user, uid, "start")
        await user.should_see("unreachable cannot be started now: ModelDeck is not connected to the runner yet")
        await user.should_see("stopped")
        assert deck_home.row("unreachable")["status"] == "stopped"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_an_app_restart_with_the_embedded_runner_never_shows_a_stale_running(deck_home: DeckHome) -> None:
    async with started_app() as user:
        await user.open("/")
        await add_model(user, deck_home, "restarted", ctx_size=256)
        uid = uid_of(deck_home, "restarted")
        tap(user, uid, "start")
        await until(lambda: deck_home.row("restarted")["status"] == "running", within=15)
    assert not llama_servers()  # the embedded runner took its servers with it
    async with started_app() as user:
        await user.open("/")
        await user.should_see("runner connected")
        await user.should_see("stopped")
        await until(lambda: deck_home.row("restarted")["status"] == "stopped", message="the DB repaired")


async def test_autostart_models_start_with_the_app(deck_home: DeckHome) -> None:
    async with started_app() as user:
        await user.open("/")
        await add_model(user, deck_home, "eager", ctx_size=256, autostart=True)
    async with started_app() as user:
        await until(lambda: deck_home.row("eager")["status"] == "running", within=15, message="autostarted")
        await user.open("/")
        await user.should_see("running")
