"""Hostile or broken requests get a clear 4xx in OpenAI's shape, and nothing else happens: no model starts."""

from __future__ import annotations

import asyncio
from typing import Any

import aiohttp
import pytest

from tests.gateway.conftest import Deck, DeckFactory, llama_servers

CHAT = "/v1/chat/completions"


async def raw_request(deck: Deck, target: str) -> tuple[int, bytes]:
    """A request line sent as written: clients would tidy '..' away before it left."""
    reader, writer = await asyncio.open_connection("127.0.0.1", deck.app.port)
    writer.write(f"GET {target} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
    answer = await reader.read()
    writer.close()
    head, _, body = answer.partition(b"\r\n\r\n")
    return int(head.split(b" ")[1]), body


def openai_error(body: Any) -> dict[str, Any]:
    assert set(body) == {"error"} and {"message", "type", "code"} <= set(body["error"]), body
    return dict(body["error"])


@pytest.fixture
async def stopped(deck: DeckFactory) -> Deck:
    return await deck(models={"tiny": {}, "other": {}})


BAD_BODIES: list[tuple[bytes, int, str]] = [
    (b'{"model": "tiny", "messages": [', 400, "invalid_json"),
    (b'["tiny"]', 400, "invalid_json"),
    (b'{"model": 7, "messages": []}', 400, "invalid_model"),
    (b'{"model": ["tiny"], "messages": []}', 400, "invalid_model"),
    (b'{"model": "", "messages": []}', 400, "invalid_model"),
    (b'{"messages": []}', 400, "model_missing"),
    (b'{"model": "gpt-5", "messages": []}', 404, "model_not_found"),
]


async def test_bad_bodies_paths_and_methods_get_a_clear_4xx_and_start_nothing(
        stopped: Deck, http: aiohttp.ClientSession) -> None:
    base = stopped.app.url
    for body, status, code in BAD_BODIES:
        async with http.post(f"{base}{CHAT}", data=body, headers={"Content-Type": "application/json"}) as answer:
            assert (answer.status, openai_error(await answer.json())["code"]) == (status, code), body
    async with http.post(f"{base}{CHAT}", json={"model": "gpt-5"}) as unknown:
        assert "the models are: other, tiny" in openai_error(await unknown.json())["message"]
    async with http.post(f"{base}{CHAT}", data=b'{"model": "tiny"}', headers={"Content-Type": "text/plain"}) as plain:
        assert plain.status == 415  # what a web page could send without asking
    async with http.get(f"{base}{CHAT}") as wrong_method:
        assert wrong_method.status == 405 and wrong_method.headers["Allow"] == "POST"
    async with http.post(f"{base}/v1/files", json={"model": "tiny"}) as no_route:
        assert no_route.status == 404 and openai_error(await no_route.json())["code"] == "unknown_route"
    for target in ("/upstream/tiny/../../etc/passwd", "/upstream/tiny/%2e%2e/%2e%2e/etc/passwd",
                   "/upstream/tiny/slots/..", "/upstream/tiny//props", "/upstream/tiny/a\\..\\b"):
        status, said = await raw_request(stopped, target)
        assert status == 400 and b"not allowed" in said, target
    assert (await raw_request(stopped, "/upstream/nobody/props"))[0] == 404
    assert (stopped.status("tiny"), stopped.status("other")) == ("stopped", "stopped")
    assert not llama_servers(stopped)
    assert not stopped.rows("SELECT * FROM audit_log WHERE action = 'model.starting'")


async def test_an_oversized_body_is_refused_before_it_is_read(stopped: Deck, http: aiohttp.ClientSession) -> None:
    huge = b'{"model": "tiny", "prompt": "' + b"x" * (33 * 1024 * 1024) + b'"}'
    async with http.post(f"{stopped.app.url}/v1/completions", data=huge,
                         headers={"Content-Type": "application/json"}) as answer:
        assert answer.status == 413
        assert openai_error(await answer.json())["code"] == "body_too_large"

    async def chunked() -> Any:  # no Content-Length: counted as it comes
        for _ in range(40):
            yield b"x" * (1024 * 1024)

    async with http.post(f"{stopped.app.url}/v1/completions", data=chunked(),
                         headers={"Content-Type": "application/json"}) as answer:
        assert answer.status == 413
    assert stopped.status("tiny") == "stopped" and not llama_servers(stopped)
