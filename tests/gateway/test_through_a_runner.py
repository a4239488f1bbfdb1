"""Models on a standalone runner (--runner-url) are reached through that runner; their servers stay on its loopback."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
from openai.types.chat import ChatCompletionMessageParam

from tests.app.test_standalone_runner import TOKEN, StandaloneRunner, launch_runner
from tests.gateway.conftest import Deck, DeckFactory, upstream_json
from tests.gateway.test_streaming import leave_mid_stream, slot_busy
from tests.processes import llama_servers
from tests.waiting import eventually

HELLO: list[ChatCompletionMessageParam] = [{"role": "user", "content": "hello"}]


@pytest.fixture
async def runner(llama_server_binary: Path, tmp_path: Path) -> AsyncIterator[StandaloneRunner]:
    started = await launch_runner(llama_server_binary, tmp_path)  # the decks' model folders lie below tmp_path
    yield started
    await started.terminate()


@pytest.fixture
async def remote(deck: DeckFactory, runner: StandaloneRunner) -> Deck:
    return await deck(models={"tiny": {"ctx_size": 4096, "parallel": 1}},
                      extra_args=("--runner-url", runner.url, "--runner-token", TOKEN))


async def test_the_gateway_reaches_a_model_through_its_runner(remote: Deck, runner: StandaloneRunner,
                                                              http: aiohttp.ClientSession) -> None:
    client = remote.client()
    chat = await client.chat.completions.create(model="tiny", messages=HELLO, max_tokens=3, temperature=0)
    assert chat.usage is not None and chat.usage.completion_tokens == 3
    pieces = [chunk async for chunk in await client.chat.completions.create(
        model="tiny", messages=HELLO, max_tokens=20, temperature=0, stream=True,
        stream_options={"include_usage": True})]
    assert len(pieces) > 10 and pieces[-1].usage is not None and pieces[-1].usage.completion_tokens == 20
    [server] = llama_servers(runner.process.pid)  # the runner's child, not the dashboard's
    arguments = server.cmdline()
    assert arguments[arguments.index("--host") + 1] == "127.0.0.1"
    assert (await upstream_json(http, remote, "tiny", "props"))["total_slots"] == 1
    async with http.post(f"{runner.url}/v1/models/{remote.models['tiny'].uid}/proxy/v1/completions",
                         json={"prompt": "hi", "max_tokens": 1}) as without_token:
        assert without_token.status == 401  # the runner's route is behind its token


async def test_a_client_leaving_a_stream_through_the_runner_frees_the_slot(remote: Deck,
                                                                          http: aiohttp.ClientSession) -> None:
    await leave_mid_stream(http, remote, "tiny")

    async def free() -> bool:
        return not await slot_busy(http, remote, "tiny")

    await eventually(free, within=3, message="the slot free again")
