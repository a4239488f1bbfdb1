"""The deck owns model state and the journal writes each change once: a recorded runner feed replayed into
the deck, and the same story live (Start and Stop through a real runner and llama-server).

Writes are counted by the real SQLite file itself: a trigger notes every update of a model's status row.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator, Callable
from contextlib import closing
from pathlib import Path

import pytest

from db.database import open_database
from db.model_record import ModelRecord
from protocol import ModelConfig, ModelStatus
from protocol.link import LinkState
from protocol.llama_server import ServerPhase
from protocol.messages import Event, LogEvent, MetricsEvent, SnapshotEvent, StatusEvent, parse_event
from runner.embedded import start_embedded_runner
from store.actor import LOCAL_ADMIN
from store.catalog import ModelCatalog
from store.deck import ModelDeck
from store.journal import Journal
from store.model_state import ModelState
from store.runner_link import linked_runner
from tests.store.record_feed import FEED, NAME, UID
from tests.waiting import until

COUNT_STATUS_WRITES = """
CREATE TABLE status_write (id INTEGER PRIMARY KEY, uid TEXT, status TEXT, exit_code INTEGER, reason TEXT);
CREATE TRIGGER count_status_writes AFTER UPDATE OF status ON model_config
BEGIN INSERT INTO status_write (uid, status, exit_code, reason) VALUES (NEW.uid, NEW.status, NEW.exit_code, NEW.reason);
END;
"""


def recorded_feed() -> list[Event]:
    return [parse_event(line) for line in FEED.read_text().splitlines()]


def query(db_path: Path, sql: str) -> list[tuple[object, ...]]:
    with closing(sqlite3.connect(db_path)) as db:
        return db.execute(sql).fetchall()


@pytest.fixture
async def db_path(tmp_path: Path) -> AsyncIterator[Path]:
    path = tmp_path / "deck.sqlite3"
    async with open_database(path):
        with closing(sqlite3.connect(path)) as db, db:
            db.executescript(COUNT_STATUS_WRITES)
        yield path


async def test_a_recorded_feed_ends_in_the_right_state_and_writes_each_status_once(
        db_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    feed = recorded_feed()
    await ModelRecord.create(**ModelRecord.config_values(ModelConfig(uid=UID, name=NAME, model_path="/m.gguf")))
    deck = ModelDeck()
    await deck.load()
    failures: list[str] = []
    deck.failed.subscribe(lambda state: failures.append(state.name))
    shown: list[ModelStatus] = []
    for event in feed:
        deck.apply(event)
        shown.append(deck.models[UID].status)
        await deck.journal.flush()  # a write per event at worst: a status handed over twice would show

    # The story the runner told: started (waiting a moment for the llama-server binary to be found), ran,
    # was killed, was restarted by the runner, ran again, stopped. A second report of the same row (the
    # pid and port once spawned) changes nothing that is stored.
    reported = [(e.process.status.value, e.process.exit_code, e.process.reason) for e in feed
                if isinstance(e, StatusEvent)]
    rows = [row for i, row in enumerate(reported) if i == 0 or row != reported[i - 1]]
    story = [status for i, (status, _, _) in enumerate(rows) if i == 0 or status != rows[i - 1][0]]
    assert story == ["starting", "running", "error", "starting", "running", "stopping", "stopped"]
    assert len(reported) > len(rows)  # the feed does repeat rows: pid and port, a restart's second starting
    state = deck.models[UID]
    assert (state.status, state.pid, state.figures, state.problem) == (ModelStatus.STOPPED, None, None, None)
    assert deck.monitor.totals.models_running == 0
    assert failures == [NAME]  # one toast for the one crash
    assert ModelStatus.RUNNING in shown
    assert not [r.message for r in caplog.records if "ignored" in r.message]  # every transition it made is legal

    writes = query(db_path, "SELECT status, exit_code, reason FROM status_write ORDER BY id")
    assert writes == rows  # each status row written once, in order
    assert ("error", -9) in [(status, code) for status, code, _ in writes]
    assert query(db_path, "SELECT status, exit_code, reason FROM model_config") == [("stopped", None, None)]
    assert query(db_path, "SELECT exit_code FROM crash") == [(-9,)]
    metrics = sum(isinstance(e, MetricsEvent) for e in feed)
    lines = sum(len(e.lines) for e in feed if isinstance(e, LogEvent))
    assert query(db_path, "SELECT count(*) FROM metric_sample") == [(metrics,)]
    assert query(db_path, "SELECT count(*) FROM log_line") == [(lines,)]


async def test_an_illegal_transition_is_ignored_and_not_written(db_path: Path,
                                                                caplog: pytest.LogCaptureFixture) -> None:
    await ModelRecord.create(**ModelRecord.config_values(ModelConfig(uid=UID, name=NAME, model_path="/m.gguf")))
    deck = ModelDeck()
    await deck.load()
    running = next(e for e in recorded_feed() if isinstance(e, StatusEvent) and e.process.status == "running")
    deck.apply(running)  # stopped -> running: no model gets there without starting
    await deck.journal.flush()
    assert deck.models[UID].status is ModelStatus.STOPPED
    assert any("ignored stopped -> running" in r.message for r in caplog.records)
    assert query(db_path, "SELECT count(*) FROM status_write") == [(0,)]


async def test_start_and_stop_through_a_real_runner_write_each_status_once(
        db_path: Path, tiny_model: Callable[..., Path], llama_server_binary: Path) -> None:
    model = tiny_model()
    journal = Journal(flush_interval=0.0)  # flush as soon as anything is handed over: no pause coalesces a twin
    deck = ModelDeck(ModelCatalog([model.parent]), journal)
    runner = await start_embedded_runner(llama_server=llama_server_binary, model_dirs=[model.parent])
    try:
        async with journal.writing_behind(), linked_runner(deck, runner.url, runner.token):
            state = await deck.save(ModelConfig(name="live", model_path=str(model), ctx_size=256), actor=LOCAL_ADMIN)
            await until_status(deck, state, ModelStatus.STOPPED)
            await until(lambda: deck.link.state is LinkState.CONNECTED, message="connected to the runner")
            server = deck.link.server.state
            await until(lambda: server.info is not None and server.info.phase is ServerPhase.READY,
                        message="the runner knows its llama-server")  # so no start waits for it and says so
            await deck.start(state.uid, actor=LOCAL_ADMIN)
            assert state.status is ModelStatus.STARTING  # shown before the runner says anything
            await until_status(deck, state, ModelStatus.RUNNING)
            assert state.pid is not None and state.fit is not None and state.fit.fits
            await until(lambda: ("running",) in query(db_path, "SELECT status FROM status_write"),
                        message="running written")
            await deck.stop(state.uid, actor=LOCAL_ADMIN)
            await until_status(deck, state, ModelStatus.STOPPED)
    finally:
        await runner.close()
    written = [status for (status,) in query(db_path, "SELECT status FROM status_write ORDER BY id")]
    # A status handed over while a write is under way goes with the next one, and a newer status of the same model
    # replaces it there (the journal keeps a model's latest): a loaded machine may so skip `starting` or `stopping`,
    # which last milliseconds here. None is written twice, none out of order, and the lasting ones are there.
    assert written == [status for status in ("starting", "running", "stopping", "stopped") if status in written]
    assert {"running", "stopped"} <= set(written), written
    assert query(db_path, "SELECT action FROM audit_log WHERE action LIKE 'model.st%' ORDER BY id") == [
        ("model.starting",), ("model.stopping",)]


async def until_status(deck: ModelDeck, state: ModelState, status: ModelStatus) -> None:
    async with asyncio.timeout(30):
        await deck.reached(state.uid, status)


async def test_a_pending_restart_is_shown_until_a_runner_that_never_heard_of_it_answers(db_path: Path) -> None:
    await ModelRecord.create(**ModelRecord.config_values(ModelConfig(uid=UID, name=NAME, model_path="/m.gguf")))
    deck = ModelDeck()
    await deck.load()
    feed = recorded_feed()
    crash = next(i for i, e in enumerate(feed) if isinstance(e, StatusEvent) and e.process.restart is not None)
    for event in feed[:crash + 1]:
        deck.apply(event)
    state = deck.models[UID]
    assert state.problem == "exit code -9 · killed by signal SIGKILL · restarting in 0.5 s (attempt 1 of 3)"
    first = feed[0]
    assert isinstance(first, SnapshotEvent)
    deck.apply(first.model_copy(update={"processes": []}))  # the runner restarted meanwhile: it knows nothing
    assert (state.status, state.restart, state.problem) == (ModelStatus.ERROR, None,
                                                            "exit code -9 · killed by signal SIGKILL")
    await deck.journal.flush()
    assert query(db_path, "SELECT status, exit_code, reason FROM model_config") == [
        ("error", -9, "killed by signal SIGKILL")]
