"""Crash rows as the deck's journal writes them: one per time a model ends in error, not one per report of it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from db.database import open_database
from db.model_record import ModelRecord
from protocol import ModelConfig, ModelStatus
from protocol.messages import ProcessState, SnapshotEvent, StatusEvent
from store.crashes import crash_timeline
from store.deck import ModelDeck


@pytest.fixture
async def deck(tmp_path: Path) -> AsyncIterator[ModelDeck]:
    async with open_database(tmp_path / "crashes.sqlite3"):
        config = ModelConfig(name="fragile", model_path="/models/fragile.gguf")
        await ModelRecord.create(**ModelRecord.config_values(config))
        deck = ModelDeck()
        await deck.load()
        yield deck


def process(uid: str, status: ModelStatus, exit_code: int | None = None, reason: str | None = None) -> ProcessState:
    return ProcessState(uid=uid, name="fragile", status=status, exit_code=exit_code, reason=reason,
                        last_lines=["E out of memory"] if exit_code else [])


async def test_a_crash_repeated_by_a_snapshot_is_recorded_once_and_the_next_crash_again(deck: ModelDeck) -> None:
    [uid] = deck.models
    deck.apply(StatusEvent(seq=1, process=process(uid, ModelStatus.STARTING)))
    deck.apply(StatusEvent(seq=2, process=process(uid, ModelStatus.RUNNING)))
    deck.apply(StatusEvent(seq=3, process=process(uid, ModelStatus.ERROR, 137, "killed")))
    await deck.journal.flush()
    # a reconnect: the runner's snapshot still shows the same error
    deck.apply(SnapshotEvent(seq=0, runner_id="r", processes=[process(uid, ModelStatus.ERROR, 137, "killed")]))
    await deck.journal.flush()
    assert [(c.exit_code, c.reason, c.last_lines) for c in await crash_timeline(uid)] == [
        (137, "killed", ("E out of memory",))]

    deck.apply(StatusEvent(seq=1, process=process(uid, ModelStatus.STARTING)))
    deck.apply(StatusEvent(seq=2, process=process(uid, ModelStatus.ERROR, 1, "bad model file")))
    await deck.journal.flush()
    assert [c.exit_code for c in await crash_timeline(uid)] == [1, 137]  # newest first
