"""Queueing and eviction: idle models unload, the least recently used idle model makes room, a busy one never
does, a full queue says when to come back, and autostarted models count toward the limit."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiohttp

from discovery import FreeMemory
from protocol import ModelConfig, ModelStatus
from store.catalog import ModelCatalog
from tests.gateway.conftest import Deck, DeckFactory, in_process, llama_servers
from tests.gateway.test_streaming import LONG
from tests.processes import llama_servers as model_servers
from tests.tiny_gguf import write_tiny_llama
from tests.waiting import eventually, until

ASK = {"messages": [{"role": "user", "content": "hi"}], "max_tokens": 2, "temperature": 0}
LONGER = {**LONG, "max_tokens": 6000, "ignore_eos": True}  # seconds of work for the tiny model (4 s here, idle)
BUSY = {"ctx_size": 8192, "parallel": 1}  # room for LONGER


async def ask(http: aiohttp.ClientSession, deck: Deck, model: str) -> tuple[int, dict[str, Any]]:
    async with http.post(f"{deck.base_url}/chat/completions", json={"model": model, **ASK}) as answer:
        return answer.status, await answer.json()


async def listed(http: aiohttp.ClientSession, deck: Deck) -> dict[str, dict[str, Any]]:
    async with http.get(f"{deck.base_url}/models") as answer:
        return {model["id"]: model for model in (await answer.json())["data"]}


@asynccontextmanager
async def streaming(deck: Deck, model: str) -> AsyncIterator[aiohttp.ClientResponse]:
    """A long stream in flight for the block: its first events have arrived, the model works on."""
    async with aiohttp.ClientSession() as own:
        answer = await own.post(f"{deck.base_url}/chat/completions", json={"model": model, **LONGER})
        assert answer.status == 200
        assert (await answer.content.readuntil(b"\n\n")).startswith(b"data: ")
        try:
            yield answer
        finally:
            answer.close()  # the client leaves: the request ends


async def shown(deck: Deck, **statuses: str) -> None:
    """Wait until the database says these statuses (the deck writes them behind, within a fraction of a second)."""
    await until(lambda: all(deck.status(name) == status for name, status in statuses.items()), within=10,
                message=f"statuses {statuses}")


def reason(deck: Deck, name: str) -> str | None:
    return deck.rows("SELECT reason FROM model_config WHERE name = ?", name)[0]["reason"]


async def test_an_idle_model_unloads_after_its_idle_time_not_while_a_request_runs(
        deck: DeckFactory, http: aiohttp.ClientSession) -> None:
    running = await deck(models={"tiny": {**BUSY, "unload_when_idle_s": 1}})
    loop = asyncio.get_running_loop()
    async with streaming(running, "tiny") as stream:
        began = loop.time()
        while loop.time() - began < 2:  # longer than the idle time, with a request in flight all along
            assert (await stream.content.readuntil(b"\n\n")).startswith(b"data: ")
        assert (await listed(http, running))["tiny"]["status"] == "running" and len(llama_servers(running)) == 1
    ended = loop.time()
    await until(lambda: running.status("tiny") == "stopped", within=10, message="unloaded once idle")
    assert loop.time() - ended >= 0.95  # counted from the end of the last request
    assert reason(running, "tiny") == "idle: no request for 1 s"
    assert llama_servers(running) == []
    [audited] = running.rows("SELECT actor, detail FROM audit_log WHERE action = 'model.stopping'")
    assert audited["actor"] == "modeldeck" and audited["detail"].endswith("· idle: no request for 1 s")
    logged = running.rows("SELECT text FROM log_line WHERE text LIKE 'ModelDeck: stopping it:%'")
    assert logged == [{"text": "ModelDeck: stopping it: idle: no request for 1 s"}]

    status, _ = await ask(http, running, "tiny")  # asked again, it starts again
    assert status == 200


async def test_past_the_limit_the_least_recently_used_idle_model_makes_room(
        deck: DeckFactory, http: aiohttp.ClientSession) -> None:
    running = await deck(models={"a": {}, "b": {}}, extra_args=("--max-running", "1"))
    for asked, evicted in (("a", None), ("b", "a"), ("a", "b")):
        status, answer = await ask(http, running, asked)
        assert status == 200, answer
        assert len(llama_servers(running)) == 1  # one at a time, the one asked for
        if evicted is not None:
            await shown(running, **{evicted: "stopped", asked: "running"})
            assert reason(running, evicted) == f"evicted: room for {asked} (at most 1 running at once)"
    audited = running.rows("SELECT actor, target, detail FROM audit_log WHERE action = 'model.stopping'")
    assert [(row["actor"], row["target"]) for row in audited] == [("local:gateway", "a"), ("local:gateway", "b")]


async def test_the_model_used_longest_ago_goes_first(deck: DeckFactory, http: aiohttp.ClientSession) -> None:
    running = await deck(models={"a": {}, "b": {}, "c": {}}, extra_args=("--max-running", "2"))
    for name in ("a", "b", "a"):  # b is now the least recently used
        assert (await ask(http, running, name))[0] == 200
    assert (await ask(http, running, "c"))[0] == 200
    await shown(running, a="running", b="stopped", c="running")
    assert len(llama_servers(running)) == 2


async def test_a_busy_model_is_not_evicted_the_request_waits_then_runs(
        deck: DeckFactory, http: aiohttp.ClientSession) -> None:
    running = await deck(models={"a": BUSY, "b": {}}, extra_args=("--max-running", "1"))
    async with streaming(running, "a"):
        waiting = asyncio.create_task(ask(http, running, "b"))

        async def b_waits() -> bool:
            models = await listed(http, running)
            return models["b"]["waiting"] == 1 and models["a"]["in_flight"] == 1

        await eventually(b_waits, message="b's request waiting while a answers")
        models = await listed(http, running)
        assert (models["a"]["status"], models["b"]["status"]) == ("running", "stopped")
        assert not waiting.done()
    status, answer = await asyncio.wait_for(waiting, 30)  # a's request over: a makes room, b runs
    assert status == 200, answer
    await shown(running, a="stopped", b="running")
    assert reason(running, "a") == "evicted: room for b (at most 1 running at once)"


async def test_beyond_the_queue_bound_a_request_gets_429_with_retry_after(
        deck: DeckFactory, http: aiohttp.ClientSession) -> None:
    running = await deck(models={"a": BUSY, "b": {}},
                         extra_args=("--max-running", "1", "--queue-limit", "2"))
    async with streaming(running, "a"):
        queued = [asyncio.create_task(ask(http, running, "b")) for _ in range(2)]

        async def full() -> bool:
            return (await listed(http, running))["b"]["waiting"] == 2

        await eventually(full, message="two requests waiting for b")
        async with http.post(f"{running.base_url}/chat/completions", json={"model": "b", **ASK}) as refused:
            assert refused.status == 429
            assert refused.headers["Retry-After"] == "5"
            error = (await refused.json())["error"]
        assert error["code"] == "queue_full" and "b has 2 requests waiting already" in error["message"]
    for status, answer in await asyncio.wait_for(asyncio.gather(*queued), 30):
        assert status == 200, answer  # the two in the queue are served
    answered_b = "SELECT status FROM gateway_request WHERE model = 'b'"
    await until(lambda: len(running.rows(answered_b)) == 3, message="all three recorded")
    assert sorted(row["status"] for row in running.rows(answered_b)) == [200, 200, 429]


async def test_autostarted_models_count_toward_the_limit(deck: DeckFactory, http: aiohttp.ClientSession) -> None:
    running = await deck(models={"a": {"autostart": True}, "b": {"autostart": True}, "c": {}},
                         extra_args=("--max-running", "1"))
    await until(lambda: running.status("a") == "running", within=20, message="a started with ModelDeck")
    assert running.status("b") == "stopped" and len(llama_servers(running)) == 1  # the limit held at start
    status, answer = await ask(http, running, "c")
    assert status == 200, answer
    await shown(running, a="stopped", c="running")
    assert reason(running, "a") == "evicted: room for c (at most 1 running at once)"
    assert len(llama_servers(running)) == 1


async def test_a_model_that_may_not_fit_beside_what_runs_makes_room_first(
        tmp_path: Path, llama_server_binary: Path) -> None:
    """On a machine with room for one of these models at a time. This machine has room for hundreds, so its
    memory reading is the one thing made up: a budget of one model's estimate and 10 MiB, less what the model
    servers running now really hold (each more than 10 MiB)."""
    model = write_tiny_llama(tmp_path / "models" / "tiny.gguf", n_ctx=8192)
    a, b = (ModelConfig(name=name, model_path=str(model), ctx_size=8192, parallel=1) for name in "ab")
    probe = ModelCatalog([model.parent])
    one = await probe.fit(a, FreeMemory(ram=0))
    assert one is not None
    budget = one.ram_needed + 10 * 1024 * 1024

    def small_machine() -> FreeMemory:
        return FreeMemory(ram=budget - sum(server.memory_info().rss for server in model_servers()))

    async with in_process(tmp_path, llama_server_binary, [a, b],
                          catalog=ModelCatalog([model.parent], memory=small_machine)) as gateway, \
            aiohttp.ClientSession() as http:
        for name in "ab":
            async with http.post(f"{gateway.url}/v1/chat/completions", json={"model": name, **ASK}) as answer:
                assert answer.status == 200, await answer.text()
        first = gateway.deck.models[a.uid]
        assert first.status is ModelStatus.STOPPED and first.reason == "evicted: room for b (it may not fit beside it)"
        assert len(model_servers()) == 1
