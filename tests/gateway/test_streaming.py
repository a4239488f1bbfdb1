"""Streams pass through as they come, and a client that leaves stops the model's work at once."""

from __future__ import annotations

import aiohttp
import psutil

from tests.gateway.conftest import Deck, DeckFactory, llama_servers, upstream_json
from tests.waiting import eventually, until

LONG = {"messages": [{"role": "user", "content": "tell me everything"}], "max_tokens": 3000, "temperature": 0,
        "stream": True}


async def slot_busy(http: aiohttp.ClientSession, deck: Deck, model: str) -> bool:
    return any(slot["is_processing"] for slot in await upstream_json(http, deck, model, "slots"))


async def leave_mid_stream(http: aiohttp.ClientSession, deck: Deck, model: str) -> None:
    """Start a long stream, take its first events while the model works on, then hang up."""
    async with aiohttp.ClientSession() as leaving:
        answer = await leaving.post(f"{deck.base_url}/chat/completions", json={"model": model, **LONG})
        assert answer.status == 200
        for _ in range(3):
            assert (await answer.content.readuntil(b"\n\n")).startswith(b"data: ")
        assert await slot_busy(http, deck, model)  # 3000 tokens take this server many seconds more
        answer.close()  # the connection goes: what a closed tab or a cancelled app does


async def test_a_client_that_disconnects_mid_stream_frees_the_slot(deck: DeckFactory,
                                                                  http: aiohttp.ClientSession) -> None:
    running = await deck(models={"tiny": {"ctx_size": 4096, "parallel": 1}})
    await leave_mid_stream(http, running, "tiny")


    async def free() -> bool:
        return not await slot_busy(http, running, "tiny")

    await eventually(free, within=3, message="the slot free again")
    route = "SELECT status, error FROM gateway_request WHERE route = '/v1/chat/completions'"
    await until(lambda: running.rows(route), message="the request recorded")
    assert running.rows(route) == [{"status": 499, "error": "the client went away"}]


async def test_requests_after_a_stream_find_the_model_answering(deck: DeckFactory,
                                                                http: aiohttp.ClientSession) -> None:
    """llama-server ends a connection after a stream though it says keep-alive; no request may land on it."""
    running = await deck(models={"tiny": {"parallel": 1}})
    for stream in (True, False, True, True, False, False):
        async with http.post(f"{running.base_url}/completions", json={
                "model": "tiny", "prompt": "hi", "max_tokens": 2, "stream": stream}) as answer:
            assert answer.status == 200, await answer.text()
            await answer.read()


def connections_from_the_app(deck: Deck) -> set[tuple[int, int]]:
    """The open TCP connections between the app and its one model server: (app's port, server's port)."""
    assert deck.app.process is not None
    [server] = llama_servers(deck)
    listening = {c.laddr.port for c in server.net_connections("tcp") if c.status == psutil.CONN_LISTEN}
    return {(c.laddr.port, c.raddr.port) for c in psutil.Process(deck.app.process.pid).net_connections("tcp")
            if c.raddr and c.raddr.port in listening and c.status == psutil.CONN_ESTABLISHED}


async def test_requests_one_after_another_share_one_connection_to_the_server(deck: DeckFactory,
                                                                              http: aiohttp.ClientSession) -> None:
    """A connection per request costs every answer a TCP handshake and the server's accept; one kept alive
    serves them all (llama-server keeps one for 100 requests)."""
    running = await deck(models={"tiny": {"parallel": 1}})

    async def complete() -> None:
        async with http.post(f"{running.base_url}/completions", json={
                "model": "tiny", "prompt": "hi", "max_tokens": 1}) as answer:
            assert answer.status == 200, await answer.text()
            await answer.read()

    await complete()  # starts the model on demand
    gateway = connections_from_the_app(running)
    # The runner in the app scrapes the server's /metrics and /slots each second on connections of its own (a loaded
    # run once saw them open between two requests): count from after its first sample.
    await until(lambda: running.rows("SELECT id FROM metric_sample LIMIT 1"), message="the first metrics sample")
    kept = connections_from_the_app(running)
    seen = []
    for _ in range(5):
        await complete()
        seen.append(connections_from_the_app(running))
    assert len(gateway) >= 1 and gateway <= kept and all(each == kept for each in seen), (gateway, kept, seen)
