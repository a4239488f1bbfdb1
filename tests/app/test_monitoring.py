"""Monitoring end to end: a real llama-server answers completions, the dashboard shows its figures,
the history keeps them across an app restart, logs filter and download alike, crashes are listed."""

from __future__ import annotations

import os
import signal
import sqlite3
from contextlib import closing
from datetime import UTC, datetime, timedelta
from typing import cast

import httpx
from nicegui import ui
from nicegui.testing import User

from protocol.messages import LogLine
from store.deck import LOG_LINES_KEPT
from store.history import Window
from store.log_filter import line_text
from tests.app.conftest import DeckHome
from tests.app.helpers import add_model, see_card, tap, uid_of
from tests.processes import llama_servers
from tests.simulation import started_app
from tests.waiting import until
from ui.components.log_tail import LogTail


def port_of_server() -> int:
    [server] = llama_servers()
    arguments = server.cmdline()
    return int(arguments[arguments.index("--port") + 1])


def key_of_server() -> dict[str, str]:
    """The header the one llama-server answers to (its per-start key, in its environment)."""
    [server] = llama_servers()
    return {"Authorization": f"Bearer {server.environ()['LLAMA_API_KEY']}"}


def best_tokens_per_second(home: DeckHome, uid: str) -> float:
    with closing(sqlite3.connect(home.db_path)) as db:
        (value,) = db.execute("SELECT max(tokens_per_second) FROM metric_sample WHERE uid = ?", (uid,)).fetchone()
    return value or 0.0


def latest_generated(home: DeckHome, uid: str) -> int | None:
    with closing(sqlite3.connect(home.db_path)) as db:
        row = db.execute("SELECT tokens_predicted_total FROM metric_sample WHERE uid = ? ORDER BY at DESC LIMIT 1",
                         (uid,)).fetchone()
    return None if row is None else row[0]


def crashes_in(home: DeckHome) -> list[tuple[str, int]]:
    with closing(sqlite3.connect(home.db_path)) as db:
        return db.execute("SELECT uid, exit_code FROM crash").fetchall()


def log_lines_in(home: DeckHome, uid: str) -> int:
    with closing(sqlite3.connect(home.db_path)) as db:
        return int(db.execute("SELECT count(*) FROM log_line WHERE uid = ?", (uid,)).fetchone()[0])


def chart_points(user: User, marker: str, series: str) -> list[float]:
    [chart] = user.find(marker=marker).elements
    assert isinstance(chart, ui.echart)
    [entry] = [s for s in chart.options["series"] if s["name"] == series]
    return [value for _, value in entry["data"] if value is not None]


def texts_in(user: User, marker: str) -> list[str]:
    [tail] = user.find(kind=LogTail, marker=marker).elements
    return tail.lines


async def start_and_wait(user: User, home: DeckHome, name: str) -> str:
    await add_model(user, home, name, ctx_size=256)
    uid = uid_of(home, name)
    await see_card(user, uid)  # the row is written just before the card appears
    tap(user, uid, "start")
    await until(lambda: home.row(name)["status"] == "running", within=15, message=f"{name} running")
    return uid


async def test_completions_show_on_the_dashboard_and_survive_a_restart_in_history_and_logs(deck_home: DeckHome) -> None:
    async with started_app() as user:
        await user.open("/")
        uid = await start_and_wait(user, deck_home, "busy")
        generated = 0
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port_of_server()}", headers=key_of_server(),
                                 timeout=30) as client:
            for _ in range(3):
                reply = await client.post("/completion", json={"prompt": "hi", "n_predict": 8})
                assert reply.status_code == 200
                generated += reply.json()["tokens_predicted"]
        await until(lambda: latest_generated(deck_home, uid) == generated, within=10, message="every token sampled")
        speed = best_tokens_per_second(deck_home, uid)
        assert speed > 0

        await user.open("/dashboard")
        await user.should_see(marker="models-running", content="1")
        await user.should_see(marker=f"requests-{uid}", content="0 in flight")  # the server's own count, all done
        await user.should_see(marker=f"tps-{uid}", content="tok/s")  # a figure ("0.0 tok/s"), not "-"
        await user.should_see(marker=f"generated-{uid}", content=f"{generated} tokens generated")
        assert speed in chart_points(user, "model-chart", "tokens/s")  # loaded from SQLite
        host_points = len(chart_points(user, "host-chart", "CPU %"))
        await until(lambda: len(chart_points(user, "host-chart", "CPU %")) > host_points, message="a live point")
        [host_chart] = user.find(marker="host-chart").elements
        assert isinstance(host_chart, ui.echart)
        with_values = [s["name"] for s in host_chart.options["series"] if chart_points(user, "host-chart", s["name"])]
        assert "CPU %" in with_values and host_chart.options["legend"]["data"] == with_values  # no empty GPU entry

    async with started_app() as user:
        await user.open("/dashboard")
        assert speed in chart_points(user, "model-chart", "tokens/s")
        [window] = user.find(marker="chart-window").elements
        cast(ui.toggle, window).value = Window.HOURS_24
        await until(lambda: speed in chart_points(user, "model-chart", "tokens/s"), message="the 24 h window")
        await user.open("/logs")
        assert any(" busy info " in line for line in texts_in(user, "log-view"))  # what it printed before the restart


async def test_filtered_log_lines_on_screen_are_the_downloaded_lines(user: User, deck_home: DeckHome) -> None:
    await user.open("/")
    uid = await start_and_wait(user, deck_home, "talkative")
    await user.open(f"/logs?model={uid}")
    await until(lambda: len(texts_in(user, "log-view")) > 5, message="the server's start-up lines")
    user.find(marker="log-text").type("model")
    cast(ui.select, user.find(marker="log-level").elements.pop()).value = "I"
    await until(lambda: texts_in(user, "log-view") and all(
        " talkative info " in line and "model" in line.casefold() for line in texts_in(user, "log-view")),
        message="only matching lines")
    shown = texts_in(user, "log-view")
    user.find(marker="log-download").click()
    downloaded = (await user.download.next()).text.splitlines()
    assert downloaded == shown


async def test_a_paused_tail_holds_still_and_catches_up_when_resumed(user: User, deck_home: DeckHome) -> None:
    await user.open("/")
    uid = await start_and_wait(user, deck_home, "chatty")
    await user.open(f"/logs?model={uid}")
    await until(lambda: len(texts_in(user, "log-view")) > 5, message="the server's start-up lines")
    cast(ui.switch, user.find(marker="log-pause").elements.pop()).value = True
    held = texts_in(user, "log-view")
    persisted = log_lines_in(deck_home, uid)
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port_of_server()}", headers=key_of_server(),
                                 timeout=30) as client:
        assert (await client.post("/completion", json={"prompt": "hi", "n_predict": 8})).status_code == 200
    await until(lambda: log_lines_in(deck_home, uid) > persisted, message="the request's lines arrived")
    assert texts_in(user, "log-view") == held
    cast(ui.switch, user.find(marker="log-pause").elements.pop()).value = False
    await until(lambda: texts_in(user, "log-view")[-1] != held[-1], message="the held lines drawn")
    assert held[-1] in texts_in(user, "log-view")


async def test_a_crash_is_listed_with_its_exit_code_and_last_lines(user: User, deck_home: DeckHome) -> None:
    await user.open("/")
    uid = await start_and_wait(user, deck_home, "fragile")
    [server] = llama_servers()
    os.kill(server.pid, signal.SIGKILL)
    await user.should_see("exit code -9")
    await until(lambda: crashes_in(deck_home) == [(uid, -9)], message="the crash in the database")
    tap(user, uid, "crashes")
    await user.should_see(marker="crash-timeline")  # the page builds its crash dialog when first asked
    with user.scope(marker="crash-timeline"):
        await user.should_see("exit code -9")
        await user.should_see("Last lines")


async def test_the_download_holds_every_stored_line_not_only_those_in_memory(deck_home: DeckHome) -> None:
    async with started_app() as user:
        await user.open("/")
        await add_model(user, deck_home, "verbose")
    uid = uid_of(deck_home, "verbose")
    first = datetime.now(UTC) - timedelta(hours=1)  # recent: older lines would fall to the retention
    count = LOG_LINES_KEPT + 500  # after a restart the store holds the newest LOG_LINES_KEPT
    stamps = [first + timedelta(seconds=n, microseconds=123) for n in range(count)]
    stamps[498:503] = [stamps[500]] * 5  # five lines in one instant, across the edge of the store's window
    texts = [f"line {n}" if not 498 <= n < 503 else "same instant" for n in range(count)]
    with closing(sqlite3.connect(deck_home.db_path)) as db, db:
        db.executemany("INSERT INTO log_line (uid, at, level, text) VALUES (?, ?, 'I', ?)",
                       [(uid, str(at), text) for at, text in zip(stamps, texts, strict=True)])
    async with started_app() as user:
        await user.open(f"/logs?model={uid}")
        user.find(marker="log-download").click()
        downloaded = (await user.download.next()).text.splitlines()
    assert [line.split(" verbose info    ", 1)[1] for line in downloaded] == texts


async def test_log_lines_show_their_level_in_plain_words(user: User, deck_home: DeckHome) -> None:
    await user.open("/")
    uid = await start_and_wait(user, deck_home, "worded")
    await user.open(f"/logs?model={uid}")
    await until(lambda: any("ModelDeck: started pid" in line for line in texts_in(user, "log-view")),
                message="ModelDeck's own start line")
    lines = texts_in(user, "log-view")
    assert next(line for line in lines if "ModelDeck: started pid" in line).split()[3] == "info"
    assert all(line.split()[3] in {"info", "warning", "error", "debug", "output"} for line in lines), lines
    unparsed = LogLine(at=datetime.now(UTC), level="?", text="something printed without a level")
    assert line_text("worded", unparsed).split()[3] == "output"
    [level] = user.find(marker="log-level").elements
    assert isinstance(level, ui.select) and isinstance(level.options, dict)
    assert level.options["?"] == "output without a level"
