"""Joining the store to one runner: commands through its HTTP API, events through the live feed."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import aiohttp

from live.feed import RunnerFeed
from live.runner_client import RunnerClient
from protocol.link import LinkState
from protocol.messages import Event, SnapshotEvent
from store.deck import ModelDeck
from store.runner_control import NoRunner
from store.supervised import in_background


@asynccontextmanager
async def linked_runner(deck: ModelDeck, url: str, token: str, *, heartbeat: float = 5.0) -> AsyncIterator[None]:
    """While open, the deck's Start/Stop reach the runner and its events reach the deck (and so the journal)."""
    connected = asyncio.Event()

    def on_event(event: Event) -> None:
        deck.apply(event)
        if isinstance(event, SnapshotEvent):
            connected.set()

    async def autostart_once_connected() -> None:
        await connected.wait()  # the snapshot first: a model the runner already runs is not started again
        await deck.autostart()

    async with aiohttp.ClientSession() as session:
        deck.runner = RunnerClient(url, token, session)
        feed = RunnerFeed(url, token, session, on_event=on_event, on_link=deck.link_changed, heartbeat=heartbeat)
        try:
            async with in_background("runner feed", feed.run), in_background("autostart", autostart_once_connected):
                yield
        finally:
            deck.runner = NoRunner()
            deck.link_changed(LinkState.NOT_CONNECTED)
