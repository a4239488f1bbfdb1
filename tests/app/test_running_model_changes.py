"""Changing a running model (#17, item 3), with the real llama-server and the tiny GGUF: the card shows what its
server runs with and what waits for the next start, Edit says so and offers Save and restart, the menu restarts
it in one tap, Delete offers Stop and delete, and a stopped card shows the port it is configured with."""

from __future__ import annotations

import socket

import psutil
from nicegui.testing import User

from tests.app.conftest import DeckHome
from tests.app.helpers import card_line, card_of, fill_form, see_no_card, start_model, stop_model, tap
from tests.processes import llama_servers
from tests.waiting import until


def context_of(server: psutil.Process) -> str:
    args = server.cmdline()
    return args[args.index("--ctx-size") + 1]


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def edit_while_running(user: User, uid: str, **values: object) -> None:
    tap(user, uid, "edit")
    await user.should_see("live is running: changes apply at the next start. Save and restart applies them now.")
    await user.should_see(marker="form-save-restart")
    await fill_form(user, **values)


async def test_an_edit_while_running_shows_what_the_server_runs_with_until_it_restarts(
        user: User, deck_home: DeckHome) -> None:
    await user.open("/")
    uid = await start_model(user, deck_home, "live")  # context 256, automatic port
    [server] = llama_servers()
    running_on = card_line(user, uid, "settings")
    assert running_on.startswith("ctx 256 · port ") and not running_on.endswith("auto")
    fixed = free_port()
    await edit_while_running(user, uid, ctx_size=512, port=fixed, restart_policy="on-failure")
    user.find(marker="form-save").click()
    await until(lambda: deck_home.row("live")["ctx_size"] == 512, message="saved")
    assert card_line(user, uid, "settings") == running_on  # what the server runs with, not what was saved
    assert card_line(user, uid, "pending") == "Changes apply at the next start: context size, port"  # not the policy
    assert [(s.pid, context_of(s)) for s in llama_servers()] == [(server.pid, "256")]

    await edit_while_running(user, uid)
    user.find(marker="form-save-restart").click()  # Save and restart

    def restarted() -> bool:
        servers = llama_servers()
        return (len(servers) == 1 and servers[0].pid != server.pid and context_of(servers[0]) == "512"
                and deck_home.row("live")["status"] == "running" and card_of(user, uid).face["status"] == "running")

    await until(restarted, within=30, message="restarted with context 512")
    assert card_line(user, uid, "settings") == f"ctx 512 · port {fixed}"
    assert card_line(user, uid, "pending") == ""


async def test_a_restart_policy_changed_while_running_applies_to_the_running_server(
        user: User, deck_home: DeckHome) -> None:
    await user.open("/")
    uid = await start_model(user, deck_home, "live")  # restart policy: never
    [server] = llama_servers()
    await edit_while_running(user, uid, restart_policy="on-failure")
    user.find(marker="form-save").click()
    await until(lambda: deck_home.row("live")["restart_policy"] == "on-failure", message="saved")
    assert card_line(user, uid, "pending") == ""  # nothing waits for a restart
    server.kill()  # a crash: the runner starts it again, as the new policy says

    def started_again() -> bool:
        servers = llama_servers()
        return len(servers) == 1 and servers[0].pid != server.pid and deck_home.row("live")["status"] == "running"

    await until(started_again, within=30, message="started again after the crash")


async def test_restart_is_one_tap_in_the_menu_of_a_running_model(user: User, deck_home: DeckHome) -> None:
    await user.open("/")
    uid = await start_model(user, deck_home, "live")
    [server] = llama_servers()
    tap(user, uid, "restart")

    def restarted() -> bool:
        servers = llama_servers()
        return len(servers) == 1 and servers[0].pid != server.pid and deck_home.row("live")["status"] == "running"

    await until(restarted, within=30, message="a new server")
    await stop_model(user, deck_home, "live")
    await until(lambda: "restart" not in card_of(user, uid).offers(), message="no Restart while stopped")


async def test_delete_on_a_running_model_offers_stop_and_delete(user: User, deck_home: DeckHome) -> None:
    await user.open("/")
    uid = await start_model(user, deck_home, "live")
    tap(user, uid, "delete")
    await user.should_see("live is running. Stop it and delete its configuration? The model file stays.")
    await user.should_see("Stop and delete")
    user.find(marker="confirm-ok").click()
    await until(lambda: deck_home.rows() == [] and not llama_servers(), within=15, message="stopped and deleted")
    await see_no_card(user, uid)


async def test_a_stopped_card_shows_the_port_it_is_configured_with(user: User, deck_home: DeckHome) -> None:
    await user.open("/")
    uid = await start_model(user, deck_home, "live")
    assert not card_line(user, uid, "settings").endswith("port auto")  # running: the port it listens on
    await stop_model(user, deck_home, "live")
    await until(lambda: card_line(user, uid, "settings") == "ctx 256 · port auto", message="auto once stopped")
    fixed = free_port()
    tap(user, uid, "edit")
    await fill_form(user, port=fixed)
    user.find(marker="form-save").click()
    await until(lambda: deck_home.row("live")["port"] == fixed, message="saved")
    assert card_line(user, uid, "settings") == f"ctx 256 · port {fixed}"
