"""Joining the store to one runner: commands through its HTTP API, events through the live feed."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import aiohttp

from live.feed import RunnerFeed
from live.runner_client import RunnerClient
from protocol.link import LinkState
from protocol.messages import Event, SnapshotEvent
from store.deck import ModelDeck
from store.runner_control import NoRunner

log = logging.getLogger(__name__)


@asynccontextmanager
async def linked_runner(deck: ModelDeck, url: str, token: str, *, heartbeat: float = 5.0) -> AsyncIterator[None]:
    """While open, the deck's Start/Stop reach the runner and its events reach the deck (and so the journal)."""
    connected = asyncio.Event()

    def on_event(event: Event) -> None:
        deck.apply(event)
        if isinstance(event, SnapshotEvent):
            connected.set()

    def on_link(state: LinkState) -> None:
        deck.link.state = state

    async def autostart_once_connected() -> None:
        await connected.wait()  # the snapshot first: a model the runner already runs is not started again
        await deck.autostart()

    async with aiohttp.ClientSession() as session:
        deck.runner = RunnerClient(url, token, session)
        feed = RunnerFeed(url, token, session, on_event=on_event, on_link=on_link, heartbeat=heartbeat)
        tasks = [asyncio.create_task(feed.run(), name="runner-feed"),
                 asyncio.create_task(autostart_once_connected(), name="autostart")]
        try:
            yield
        finally:
            deck.runner = NoRunner()
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            deck.link.state = LinkState.NOT_CONNECTED
