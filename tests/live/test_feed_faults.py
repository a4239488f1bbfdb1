"""A runner that misbehaves never kills the feed: garbage, oversized frames, silence, gaps, drops.

Each fault comes from a real aiohttp server on loopback whose handler misbehaves on purpose
(the real runner cannot be made to send garbage), beside the real-runner tests in tests/app.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from live.feed import Backoff, RunnerFeed
from protocol import ModelStatus
from protocol.link import LinkState
from protocol.messages import MAX_FRAME_BYTES, Event, HostEvent, HostSample, ProcessState, SnapshotEvent, StatusEvent

Script = Callable[[web.WebSocketResponse, int], Awaitable[None]]
FeedFactory = Callable[..., Awaitable[tuple[RunnerFeed, "Recorder"]]]


def snapshot(seq: int, status: ModelStatus = ModelStatus.RUNNING) -> str:
    process = ProcessState(uid="a" * 32, name="m", status=status)
    return SnapshotEvent(seq=seq, runner_id="test", processes=[process]).model_dump_json()


def status(seq: int, value: ModelStatus) -> str:
    return StatusEvent(seq=seq, process=ProcessState(uid="a" * 32, name="m", status=value)).model_dump_json()


def host(seq: int) -> str:
    sample = HostSample(at=datetime.now(UTC), cpu_percent=1.0, ram_used_bytes=1, ram_total_bytes=2)
    return HostEvent(seq=seq, sample=sample).model_dump_json()


class FakeRunner:
    """Plays `script(ws, connection_number)` to each WebSocket client in turn."""

    def __init__(self, script: Script, autoping: bool = True) -> None:
        self.script = script
        self.autoping = autoping
        self.connections = 0

    async def handle(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(autoping=self.autoping, max_msg_size=0)
        await ws.prepare(request)
        self.connections += 1
        await self.script(ws, self.connections)
        return ws


class Recorder:
    def __init__(self) -> None:
        self.events: asyncio.Queue[Event] = asyncio.Queue()
        self.links: list[LinkState] = []

    def on_event(self, event: Event) -> None:
        self.events.put_nowait(event)

    def on_link(self, state: LinkState) -> None:
        self.links.append(state)

    async def next(self) -> Event:
        return await asyncio.wait_for(self.events.get(), 5)


@pytest.fixture
async def feed_against() -> AsyncIterator[FeedFactory]:
    servers: list[TestServer] = []
    tasks: list[asyncio.Task[None]] = []
    session = aiohttp.ClientSession()

    async def start(script: Script, autoping: bool = True, heartbeat: float = 5.0) -> tuple[RunnerFeed, Recorder]:
        fake = FakeRunner(script, autoping)
        app = web.Application()
        app.router.add_get("/v1/events", fake.handle)
        server = TestServer(app, host="127.0.0.1")
        await server.start_server()
        servers.append(server)
        recorder = Recorder()
        feed = RunnerFeed(str(server.make_url("/")), "token", session, on_event=recorder.on_event,
                          on_link=recorder.on_link, heartbeat=heartbeat, backoff=Backoff(base=0.01, cap=0.05))
        tasks.append(asyncio.create_task(feed.run()))
        return feed, recorder

    yield start
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    await session.close()
    for server in servers:
        await server.close()


async def hold_open(ws: web.WebSocketResponse) -> None:
    async for _ in ws:
        pass


async def test_garbage_frames_are_dropped_and_the_feed_goes_on(feed_against: FeedFactory) -> None:
    async def script(ws: web.WebSocketResponse, _: int) -> None:
        await ws.send_str(snapshot(0))
        for garbage in ("not json", "{}", '{"type": "status", "seq": "x"}', '{"type": "nope", "seq": 1}', "[]"):
            await ws.send_str(garbage)
        await ws.send_bytes(b"\x00\xff")
        await ws.send_str(status(1, ModelStatus.STOPPING))
        await hold_open(ws)

    _, recorder = await feed_against(script)
    assert isinstance(await recorder.next(), SnapshotEvent)
    event = await recorder.next()
    assert isinstance(event, StatusEvent) and event.process.status is ModelStatus.STOPPING


async def test_a_frame_over_the_size_limit_costs_one_reconnect_not_the_task(feed_against: FeedFactory) -> None:
    async def script(ws: web.WebSocketResponse, connection: int) -> None:
        await ws.send_str(snapshot(0))
        if connection == 1:
            await ws.send_str("x" * (MAX_FRAME_BYTES + 1))
        await hold_open(ws)

    feed, recorder = await feed_against(script)
    assert isinstance(await recorder.next(), SnapshotEvent)
    assert isinstance(await recorder.next(), SnapshotEvent)  # reconnected, fresh snapshot
    assert feed.connects == 2
    assert LinkState.RECONNECTING in recorder.links and recorder.links[-1] is LinkState.CONNECTED


async def test_a_runner_that_stops_answering_pings_is_left_and_retried(feed_against: FeedFactory) -> None:
    async def script(ws: web.WebSocketResponse, _: int) -> None:
        await ws.send_str(snapshot(0))
        await asyncio.sleep(3600)  # silent: no pongs (autoping off), no frames

    feed, recorder = await feed_against(script, autoping=False, heartbeat=0.2)
    assert isinstance(await recorder.next(), SnapshotEvent)
    assert isinstance(await recorder.next(), SnapshotEvent)
    assert feed.connects >= 2


async def test_a_gap_in_sequence_numbers_fetches_a_fresh_snapshot(feed_against: FeedFactory) -> None:
    async def script(ws: web.WebSocketResponse, connection: int) -> None:
        if connection == 1:
            await ws.send_str(snapshot(5))
            await ws.send_str(host(6))
            await ws.send_str(status(9, ModelStatus.STOPPED))  # 7 and 8 were lost
        else:
            await ws.send_str(snapshot(9, ModelStatus.STOPPED))
        await hold_open(ws)

    _, recorder = await feed_against(script)
    assert isinstance(await recorder.next(), SnapshotEvent)
    assert isinstance(await recorder.next(), HostEvent)
    repaired = await recorder.next()
    assert isinstance(repaired, SnapshotEvent) and repaired.processes[0].status is ModelStatus.STOPPED


async def test_a_dropped_connection_reconnects_with_backoff(feed_against: FeedFactory) -> None:
    async def script(ws: web.WebSocketResponse, connection: int) -> None:
        await ws.send_str(snapshot(0))
        if connection < 3:
            await ws.close()
            return
        await hold_open(ws)

    feed, recorder = await feed_against(script)
    for _ in range(3):
        assert isinstance(await recorder.next(), SnapshotEvent)
    assert feed.connects == 3
    assert feed.backoff.attempt == 0  # reset after the good connect
