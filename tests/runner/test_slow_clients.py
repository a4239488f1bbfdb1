"""Strangers who connect and never finish cannot starve a runner: 350 real sockets on loopback (silent,
half-sent headers, idle after a refused request) against a real runner with 256 file descriptors. The
runner keeps answering its clients, keeps sampling its llama-server, and drops every stranger within seconds."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit

import aiohttp

from protocol.config import ModelConfig
from protocol.messages import MetricsEvent, parse_event
from tests.runner.conftest import RunnerClient
from tests.runner.standalone import StandaloneRunner, standalone_runner

FD_LIMIT = 256
DROPPED_WITHIN_S = 10.0


async def stranger(runner: StandaloneRunner, kind: str) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    address = urlsplit(runner.url)
    reader, writer = await asyncio.open_connection(address.hostname, address.port)
    if kind == "half-sent headers":
        writer.write(b"GET /v1/snapshot HTTP/1.1\r\nHost: runner\r\nX-Slow: ")
    elif kind == "idle after a refused request":
        writer.write(b"GET /v1/snapshot HTTP/1.1\r\nHost: runner\r\n\r\n")  # no token: 401, then silence
    await writer.drain()
    return reader, writer


async def dropped(reader: asyncio.StreamReader) -> None:
    """Returns once the runner has closed the connection (whatever it answered before)."""
    with contextlib.suppress(ConnectionError):
        while await reader.read(65536):
            pass


async def test_350_slow_strangers_neither_starve_the_runner_nor_outstay_their_welcome(
        llama_server_binary: Path, tmp_path: Path, model_config: Callable[..., ModelConfig]) -> None:
    async with standalone_runner(llama_server_binary, tmp_path, [model_config()], fd_limit=FD_LIMIT) as runner, \
            aiohttp.ClientSession(headers=runner.auth) as session, \
            session.ws_connect(f"{runner.url}/v1/events") as feed:
        kinds = ["silent"] * 150 + ["half-sent headers"] * 150 + ["idle after a refused request"] * 50
        strangers = [await stranger(runner, kind) for kind in kinds]
        try:
            for _ in range(5):  # the runner's own clients are served meanwhile
                async with session.get(f"{runner.url}/v1/snapshot", timeout=aiohttp.ClientTimeout(total=5)) as reply:
                    assert reply.status == 200
                    assert len((await reply.json())["processes"]) == 1

            async def sampled_fully() -> MetricsEvent:  # the sampler still reaches the server and /proc
                while True:
                    event = parse_event((await feed.receive()).data)
                    if isinstance(event, MetricsEvent) and event.sample.total_slots is not None:
                        assert event.sample.rss_bytes is not None
                        return event

            for _ in range(2):
                await asyncio.wait_for(sampled_fully(), 5)

            async with asyncio.timeout(DROPPED_WITHIN_S):
                await asyncio.gather(*(dropped(reader) for reader, _ in strangers))
        finally:
            for _, writer in strangers:
                writer.close()
    output = runner.output.read_text(errors="replace")
    assert "Too many open files" not in output, output[-3000:]


async def test_a_body_that_stops_arriving_is_answered_408_and_the_connection_closed(runner: RunnerClient) -> None:
    address = urlsplit(runner.url)
    reader, writer = await asyncio.open_connection(address.hostname, address.port)
    writer.write(f"POST /v1/start HTTP/1.1\r\nHost: runner\r\nAuthorization: Bearer {runner.runner.token}\r\n"
                 "Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n{\"config\": ".encode())
    await writer.drain()
    try:
        async with asyncio.timeout(DROPPED_WITHIN_S):
            answer = await reader.read()  # to the end: the runner closes the connection after answering
    finally:
        writer.close()
    assert answer.startswith(b"HTTP/1.1 408 ")
    assert b"did not arrive within" in answer
