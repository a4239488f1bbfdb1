"""A request for a model that is not running starts it, the way the card's Start does; failures say why."""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path

import aiohttp
import openai
import pytest
from openai.types.chat import ChatCompletionMessageParam

from protocol import ModelConfig, ModelStatus
from tests.gateway.conftest import DeckFactory, in_process, llama_servers
from tests.tiny_gguf import write_tiny_llama
from tests.waiting import until

HELLO: list[ChatCompletionMessageParam] = [{"role": "user", "content": "hello"}]
SLOW = {"n_embd": 512, "n_ff": 1024, "n_layer": 8}  # 85 MB: 12 tokens/s on a busy 2-core machine (tiny: 1,300)


async def test_ten_requests_to_a_stopped_model_start_exactly_one_server_and_all_succeed(deck: DeckFactory) -> None:
    running = await deck(models={"tiny": {"parallel": 4}})
    assert running.status("tiny") == "stopped" and not llama_servers(running)
    client = running.client()
    answers = await asyncio.gather(*(client.completions.create(model="tiny", prompt=f"n{i}", max_tokens=2)
                                     for i in range(10)))
    assert all(answer.choices and answer.usage is not None and answer.usage.completion_tokens for answer in answers)
    await until(lambda: running.status("tiny") == "running", message="the card shows it running")
    assert len(llama_servers(running)) == 1
    spawned = running.rows("SELECT text FROM log_line WHERE text LIKE 'ModelDeck: started pid%'")
    starts = running.rows("SELECT actor FROM audit_log WHERE action = 'model.starting'")
    assert len(spawned) == 1 and starts == [{"actor": "local:gateway"}]  # the audit log says who asked


async def test_a_start_that_fails_answers_503_with_the_reason_the_card_shows(deck: DeckFactory,
                                                                            tmp_path: Path) -> None:
    running = await deck(models={"broken": {}})
    broken = Path(running.models["broken"].model_path)
    broken.write_bytes(b"GGUF" + b"\x00" * 64)  # noqa: ASYNC240 - the right magic, then nothing a server can load
    with pytest.raises(openai.InternalServerError) as refused:
        await running.client().chat.completions.create(model="broken", messages=HELLO, max_tokens=2)
    assert refused.value.status_code == 503
    await until(lambda: running.status("broken") == "error", message="the card shows the error")
    [card] = running.rows("SELECT exit_code, reason FROM model_config WHERE name = 'broken'")
    message = str(refused.value.body["message"])  # type: ignore[index]
    assert message.startswith("broken could not start: exit code 1") and card["reason"] in message
    assert refused.value.body["code"] == "model_start_failed"  # type: ignore[index]


async def test_a_crash_mid_stream_ends_the_stream_with_an_error_event_and_the_reason(deck: DeckFactory) -> None:
    # A model slow enough that its answer is still being generated when the first chunk arrives: the tiny one
    # can finish all 3000 tokens into the socket's buffers before a busy client reads the first.
    running = await deck(models={"fragile": {"ctx_size": 4096}}, model_shape=SLOW)
    client = running.client()
    stream = await client.chat.completions.create(model="fragile", messages=HELLO, max_tokens=3000, stream=True,
                                                  temperature=0)
    with pytest.raises(openai.APIError) as broke:
        async for chunk in stream:
            if chunk.choices and chunk.choices[0].delta.content and (servers := llama_servers(running)):
                servers[0].send_signal(signal.SIGKILL)
    assert "fragile stopped answering" in broke.value.message and "SIGKILL" in broke.value.message
    await until(lambda: running.status("fragile") == "error", message="the card shows the crash")
    await until(lambda: running.rows("SELECT status FROM gateway_request WHERE route = '/v1/chat/completions'"),
                message="the request recorded")
    assert running.rows("SELECT status FROM gateway_request WHERE route = '/v1/chat/completions'") == [
        {"status": 502}]


async def test_a_crash_mid_request_answers_502_with_the_reason(deck: DeckFactory) -> None:
    running = await deck(models={"fragile": {"ctx_size": 4096}})
    client = running.client()
    await client.completions.create(model="fragile", prompt="warm up", max_tokens=1)
    [server] = llama_servers(running)
    asking = asyncio.create_task(client.completions.create(model="fragile", prompt="a long one", max_tokens=3000,
                                                           temperature=0))
    await until(lambda: server.cpu_percent(0.05) > 20, message="the server generating")
    server.send_signal(signal.SIGKILL)
    with pytest.raises(openai.APIStatusError) as broke:
        await asking
    assert broke.value.status_code == 502 and "SIGKILL" in broke.value.message
    assert broke.value.body["code"] == "model_crashed"  # type: ignore[index]


async def test_a_stream_waiting_on_a_cold_start_hears_loading(tmp_path: Path, llama_server_binary: Path) -> None:
    model = write_tiny_llama(tmp_path / "models" / "tiny.gguf")
    config = ModelConfig(name="tiny", model_path=str(model), ctx_size=256)
    async with in_process(tmp_path, llama_server_binary, [config], loading_every_s=0.005) as gateway, \
            aiohttp.ClientSession() as http:
        assert gateway.deck.models[config.uid].status is ModelStatus.STOPPED
        async with http.post(f"{gateway.url}/v1/chat/completions", json={
                "model": "tiny", "messages": HELLO, "max_tokens": 3, "stream": True}) as answer:
            assert answer.status == 200 and answer.content_type == "text/event-stream"
            events = (await answer.text()).split("\n\n")
    assert events[0] == ": loading"  # an SSE comment: clients skip it, proxies see the connection alive
    data = [event for event in events if event.startswith("data: ")]
    assert data[-1] == "data: [DONE]" and len(data) >= 4
    assert not any(event.startswith(": loading") for event in events[events.index(data[0]):])
