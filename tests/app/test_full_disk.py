"""The app's data folder on a real filesystem that fills up (a tmpfs, tests/faults.py): every page says so within
2 s, a Start is refused and put back, live updates wait (bounded) and are written once space is freed."""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from tests.app.conftest import DeckHome
from tests.app.helpers import add_model, count, see_card, see_no_card, start_model, tap, uid_of
from tests.faults import SmallFilesystem, small_filesystem
from tests.processes import llama_servers
from tests.simulation import started_app
from tests.waiting import until

PAGES = ("/", "/dashboard", "/logs", "/discover", "/activity", "/keys")


@pytest.fixture
def full_disk_home(deck_home: DeckHome) -> Iterator[SmallFilesystem]:
    """The app's data folder is a small filesystem of its own (the model folder stays where it is)."""
    with small_filesystem(deck_home.data_dir, 8 * 1024 * 1024) as fs:
        yield fs


async def test_a_full_disk_shows_on_every_page_refuses_a_start_and_writes_again_once_freed(
        full_disk_home: SmallFilesystem, deck_home: DeckHome) -> None:
    async with started_app() as user:
        await user.open("/")
        watched = await start_model(user, deck_home, "watched")
        [server] = llama_servers()
        await add_model(user, deck_home, "second", ctx_size=256)
        second = uid_of(deck_home, "second")

        filled_at = datetime.now(UTC)
        full_disk_home.fill()
        for page in PAGES:  # the next write cannot be made: every page says so within 2 s
            await user.open(page)
            await user.should_see(marker="database-banner", retries=20)
            await user.should_see("the disk holding the database is full")

        await user.open("/")
        tap(user, second, "start")
        await until(lambda: user.notify.contains("second was not started: the database refused the change: the disk "
                                                 "holding the database is full"), message="the refusal, in words")
        await see_card(user, second, "stopped")  # put back, not `starting` for ever
        await see_no_card(user, second, "starting")
        assert llama_servers() == [server]  # the command was never sent
        os.kill(server.pid, signal.SIGKILL)  # a crash while nothing can be written: shown, and kept
        await see_card(user, watched, "exit code -9", within=2)
        assert deck_home.row("watched")["status"] == "running"

        full_disk_home.free()
        freed_at = datetime.now(UTC)
        await until(lambda: deck_home.row("watched")["status"] == "error", within=10, message="the kept crash written")
        assert count(deck_home, "crash", filled_at, freed_at) == 1
        await user.should_not_see(marker="database-banner", retries=30)

        # Writing goes on by itself: a start, its figures, and a later crash.
        tap(user, second, "start")
        await until(lambda: deck_home.row("second")["status"] == "running", within=15, message="second running")
        await until(lambda: count(deck_home, "metric_sample", freed_at) >= 2, within=10,
                    message="metric samples written after the space was freed")
        [again] = llama_servers()
        os.kill(again.pid, signal.SIGKILL)
        await until(lambda: count(deck_home, "crash", freed_at) == 1, within=10, message="the later crash recorded")
        assert deck_home.row("second")["status"] == "error"
