"""The embedded runner: loopback, random port and token, and a close that leaves nothing running."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable
from pathlib import Path

import aiohttp

from protocol.config import ModelConfig
from protocol.messages import StatusEvent, parse_event
from protocol.status import ModelStatus
from runner.embedded import start_embedded_runner
from tests.processes import gone
from tests.waiting import until


async def test_close_stops_models_and_ends_open_feeds(llama_server_binary: Path, tmp_path: Path,
                                                       model_config: Callable[..., ModelConfig]) -> None:
    runner = await start_embedded_runner(llama_server=llama_server_binary, model_dirs=[tmp_path / "models"],
                                         allow_build=False)
    assert runner.url.startswith("http://127.0.0.1:") and len(runner.token) >= 32
    config = model_config()
    async with aiohttp.ClientSession(headers={"Authorization": f"Bearer {runner.token}"}) as session:
        async with session.ws_connect(f"{runner.url}/v1/events") as ws:
            await ws.receive(timeout=5)  # snapshot
            async with session.post(f"{runner.url}/v1/start", json={"config": config.model_dump(mode="json")}) as r:
                assert (await r.json())["accepted"]
            async with asyncio.timeout(10):
                while True:
                    event = parse_event((await ws.receive()).data)
                    if isinstance(event, StatusEvent) and event.process.status is ModelStatus.RUNNING:
                        pid = event.process.pid
                        break
            assert pid is not None
            keeper = os.getpgid(pid)  # the lifeline keeper leads the servers' process group
            async with asyncio.timeout(5):  # the open feed must not hold the close up
                await runner.close()
            statuses = []
            async with asyncio.timeout(5):
                async for msg in ws:
                    if msg.type is aiohttp.WSMsgType.TEXT:
                        event = parse_event(msg.data)
                        if isinstance(event, StatusEvent):
                            statuses.append(event.process.status)
    assert statuses[-1] is ModelStatus.STOPPED  # clients saw the final status before the feed closed
    assert gone(pid)
    await until(lambda: gone(keeper), message="the keeper ended with the runner")
