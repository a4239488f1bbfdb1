"""Joining the store to one runner: commands through its HTTP API, events through the live feed."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import aiohttp

from live.feed import RunnerFeed
from live.runner_client import RunnerClient
from protocol.link import LinkState
from protocol.llama_server import ServerPhase
from protocol.messages import Event, ServerEvent, SnapshotEvent
from store.deck import ModelDeck
from store.runner_control import NoRunner
from store.supervised import in_background


class RunnerFlags:
    """Keeps the deck's flag catalog that of the runner linked now: asked of every new runner (its
    llama-server may differ), and again whenever its binary becomes ready (found, built or rebuilt)."""

    def __init__(self, deck: ModelDeck) -> None:
        self.deck = deck
        self._runner_id: str | None = None
        self._held_for: str | None = None
        self._fetch: asyncio.Task[None] | None = None

    def seen(self, event: Event) -> None:
        if isinstance(event, SnapshotEvent):
            self._runner_id = event.runner_id
            if self._held_for == event.runner_id:
                return
        elif not (isinstance(event, ServerEvent) and event.info.phase is ServerPhase.READY):
            return
        if self._runner_id is not None:
            if self._fetch is not None:
                self._fetch.cancel()  # it may have asked before the binary was ready
            self._fetch = asyncio.create_task(self._ask(self._runner_id), name="runner flags")

    async def _ask(self, runner_id: str) -> None:
        catalog = await self.deck.runner.flags()
        if catalog is not None:
            self._held_for = runner_id
            self.deck.use_flags(catalog)

    async def close(self) -> None:
        if self._fetch is not None:
            self._fetch.cancel()
            await asyncio.gather(self._fetch, return_exceptions=True)


@asynccontextmanager
async def linked_runner(deck: ModelDeck, url: str, token: str, *, heartbeat: float = 5.0) -> AsyncIterator[None]:
    """While open, the deck's Start/Stop reach the runner and its events reach the deck (and so the journal)."""
    connected = asyncio.Event()
    flags = RunnerFlags(deck)

    def on_event(event: Event) -> None:
        deck.apply(event)
        flags.seen(event)
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
            await flags.close()
            deck.link_changed(LinkState.NOT_CONNECTED)
