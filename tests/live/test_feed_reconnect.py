"""The dashboard's feed finds a real runner again within a second of it answering, however long it was away."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

from live.feed import RunnerFeed
from protocol.link import LinkState
from protocol.messages import Event
from runner.process import free_port
from tests.runner.standalone import standalone_runner
from tests.waiting import until

TOKEN = "reconnect-test-token"
OUTAGES_S = (3.0, 3.0, 3.0, 3.0)  # each long enough for a backoff to grow past a second


class Link:
    def __init__(self) -> None:
        self.state = LinkState.NOT_CONNECTED
        self.snapshots = 0

    def on_link(self, state: LinkState) -> None:
        self.state = state

    def on_event(self, event: Event) -> None:
        self.snapshots += event.type == "snapshot"


async def seconds_to_reconnect(link: Link, snapshots_before: int) -> float:
    """From now (the runner answers again) until the feed has a snapshot newer than the first `snapshots_before`
    (it may have come already: the runner answers a moment before it says so)."""
    began = time.monotonic()
    await until(lambda: link.snapshots > snapshots_before and link.state is LinkState.CONNECTED, within=5,
                message="reconnected")
    return time.monotonic() - began


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


async def test_the_feed_reconnects_within_a_second_of_the_runner_answering_again(
        llama_server_binary: Path, tmp_path: Path, session: aiohttp.ClientSession) -> None:
    port = free_port()
    link = Link()
    feed = RunnerFeed(f"http://127.0.0.1:{port}", TOKEN, session, on_event=link.on_event, on_link=link.on_link)
    task = asyncio.create_task(feed.run())
    try:
        async with standalone_runner(llama_server_binary, tmp_path, [], port=port, token=TOKEN):
            await until(lambda: link.state is LinkState.CONNECTED, within=5, message="first connect")
        for outage in OUTAGES_S:
            await until(lambda: link.state is LinkState.RECONNECTING, within=5, message="the runner's absence noticed")
            await asyncio.sleep(outage)  # the outage itself, not synchronisation
            snapshots = link.snapshots
            async with standalone_runner(llama_server_binary, tmp_path, [], port=port, token=TOKEN):
                took = await seconds_to_reconnect(link, snapshots)
                assert took < 1.0, f"reconnected {took:.1f} s after the runner answered again (outage {outage} s)"
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
