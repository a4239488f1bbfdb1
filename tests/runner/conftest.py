"""A real runner on loopback per test, and a client that reads its event feed like the dashboard does."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from protocol.config import ModelConfig
from protocol.messages import Event, ProcessState, SnapshotEvent, StatusEvent, parse_event
from protocol.status import ModelStatus
from runner.embedded import EmbeddedRunner, start_embedded_runner
from runner.process import Timing

FAST = Timing(backoff_base_s=0.05, backoff_cap_s=0.2, stop_timeout_s=3.0)


class Feed:
    """One WebSocket client: every event goes into a queue; checks that sequence numbers have no gap."""

    def __init__(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        self.ws = ws
        self.queue: asyncio.Queue[Event | AssertionError] = asyncio.Queue()
        self.seen: list[Event] = []
        self._task = asyncio.create_task(self._pump())

    async def _pump(self) -> None:
        async for msg in self.ws:
            if msg.type is aiohttp.WSMsgType.TEXT:
                event = parse_event(msg.data)
                if self.seen and not isinstance(event, SnapshotEvent) and event.seq != self.seen[-1].seq + 1:
                    # Handed to the test through the queue: an assert in this task would go unseen.
                    self.queue.put_nowait(AssertionError(f"gap in the feed: {self.seen[-1].seq} -> {event.seq}"))
                self.seen.append(event)
                self.queue.put_nowait(event)

    async def _get(self) -> Event:
        item = await self.queue.get()
        if isinstance(item, AssertionError):
            raise item
        return item

    async def next(self, within: float = 5.0) -> Event:
        async with asyncio.timeout(within):  # not wait_for: on 3.11 it can swallow a cancel (CPython gh-86296)
            return await self._get()

    async def wait_for(self, match: Callable[[Event], bool], within: float = 10.0) -> Event:
        """The first event (from now on) that matches; fails after `within` seconds."""
        async with asyncio.timeout(within):
            while True:
                event = await self._get()
                if match(event):
                    return event

    async def status(self, uid: str, *statuses: ModelStatus, within: float = 10.0) -> ProcessState:
        event = await self.wait_for(lambda e: isinstance(e, StatusEvent) and e.process.uid == uid
                                    and e.process.status in statuses, within)
        assert isinstance(event, StatusEvent)
        return event.process

    async def close(self) -> None:
        await self.ws.close()
        self._task.cancel()
        await asyncio.gather(self._task, return_exceptions=True)


class RunnerClient:
    """HTTP commands and event feeds against one runner."""

    def __init__(self, runner: EmbeddedRunner, session: aiohttp.ClientSession) -> None:
        self.runner = runner
        self.session = session
        self.url = runner.url
        self.auth = {"Authorization": f"Bearer {runner.token}"}
        self._feeds: list[Feed] = []

    async def post(self, path: str, body: Any) -> tuple[int, dict[str, Any]]:
        async with self.session.post(self.url + path, json=body, headers=self.auth) as response:
            return response.status, await response.json()

    async def get(self, path: str) -> tuple[int, Any]:
        async with self.session.get(self.url + path, headers=self.auth) as response:
            return response.status, await response.json()

    async def start(self, config: ModelConfig) -> dict[str, Any]:
        _, body = await self.post("/v1/start", {"config": config.model_dump(mode="json")})
        return body

    async def stop(self, uid: str) -> dict[str, Any]:
        _, body = await self.post("/v1/stop", {"uid": uid})
        return body

    async def feed(self) -> Feed:
        """Connect the WebSocket; the first event it yields is the snapshot."""
        ws = await self.session.ws_connect(f"{self.url}/v1/events?token={self.runner.token}")
        feed = Feed(ws)
        self._feeds.append(feed)
        return feed

    async def flags_known(self, within: float = 30.0) -> None:
        """Wait until the runner has its binary and has read its flags: from then on a start with a refused
        argument is answered 409 at once (before, it is refused just before the spawn)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + within
        while (await self.get("/v1/flags"))[0] != 200:
            if loop.time() > deadline:
                raise AssertionError(f"the runner did not know its flags within {within} s")
            await asyncio.sleep(0.05)  # polling the route: the condition is its answer

    async def close(self) -> None:
        for feed in self._feeds:
            await feed.close()


@contextlib.asynccontextmanager
async def serving(binary: Path | None, tmp_path: Path, timing: Timing = FAST) -> AsyncIterator[RunnerClient]:
    """An embedded runner limited to tmp_path/models (metrics every 0.2 s) and a client; both closed after.
    Without a binary it finds or builds one, as a first start does."""
    (tmp_path / "models").mkdir(exist_ok=True)
    embedded = await start_embedded_runner(llama_server=binary, model_dirs=[tmp_path / "models"],
                                           metrics_interval=0.2, allow_build=binary is None, timing=timing)
    async with aiohttp.ClientSession() as session:
        client = RunnerClient(embedded, session)
        try:
            yield client
        finally:
            await client.close()
            await embedded.close()


@pytest.fixture
async def runner(llama_server_binary: Path, tmp_path: Path) -> AsyncIterator[RunnerClient]:
    """A runner with the real llama-server (found, its flags read) and fast backoff."""
    async with serving(llama_server_binary, tmp_path) as client:
        await client.flags_known()
        yield client


@pytest.fixture
def model_config(tiny_model: Callable[..., Path]) -> Callable[..., ModelConfig]:
    """Factory: a config for a fresh tiny model (small context, one thread) with overrides."""
    counter = iter(range(1000))

    def make(**overrides: Any) -> ModelConfig:
        n = next(counter)
        fields: dict[str, Any] = {"name": f"tiny-{n}", "ctx_size": 256, "threads": 1, "batch_size": 64}
        if "model_path" not in overrides:
            fields["model_path"] = str(tiny_model(f"tiny-{n}.gguf"))
        fields.update(overrides)
        return ModelConfig(**fields)

    return make
