"""What the gateway's traffic looks like on the cards: requests in flight and waiting, live; requests per
minute; the idle countdown, and why ModelDeck stopped a model."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from nicegui import core

from tests.app.conftest import DeckHome
from tests.app.helpers import add_model, card_line, card_of, uid_of
from tests.simulation import started_app
from tests.tiny_gguf import write_tiny_llama
from tests.waiting import until

# Seconds of work for the tiny model, so the requests are still running while the test looks.
LONG = {"messages": [{"role": "user", "content": "tell me everything"}], "max_tokens": 6000, "ignore_eos": True,
        "temperature": 0}


def gateway() -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(core.app), base_url="http://test", timeout=60)


async def test_cards_show_requests_in_flight_and_waiting_while_they_run(
        deck_home: DeckHome, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MODELDECK_MAX_RUNNING", "1")
    write_tiny_llama(deck_home.model_file, n_ctx=8192)  # room for long answers
    async with started_app() as user:
        await user.open("/")
        await add_model(user, deck_home, "a", ctx_size=8192, parallel=2)
        await add_model(user, deck_home, "b", ctx_size=256)
        a, b = uid_of(deck_home, "a"), uid_of(deck_home, "b")
        assert card_line(user, a, "traffic") == card_line(user, b, "traffic") == ""
        async with gateway() as app:
            for_a = [asyncio.create_task(app.post("/v1/chat/completions", json={"model": "a", **LONG}))
                     for _ in range(2)]
            await until(lambda: card_line(user, a, "traffic") == "2 in flight", message="a's two requests")
            for_b = asyncio.create_task(app.post("/v1/chat/completions", json={"model": "b", **LONG,
                                                                               "max_tokens": 2}))
            await until(lambda: card_line(user, b, "traffic") == "1 waiting", message="b's request waits for a")
            assert card_line(user, a, "traffic") == "2 in flight"  # a, busy, is not evicted
            for request in for_a:  # a's clients leave (on a loaded machine the answers could take minutes)
                request.cancel()
            answer = await asyncio.wait_for(for_b, 60)  # a is idle now: it makes room, b runs
        assert answer.status_code == 200
        await until(lambda: [card_line(user, uid, "traffic") for uid in (a, b)] == ["2 req/min", "1 req/min"],
                    message="requests per minute once they ended")
        await user.open("/dashboard")
        await user.should_see(marker=f"rpm-{a}", content="2 req/min")


async def test_the_idle_countdown_shows_until_the_model_unloads_and_the_card_says_why(
        deck_home: DeckHome) -> None:
    async with started_app() as user:
        await user.open("/")
        await add_model(user, deck_home, "tiny", ctx_size=256, unload_when_idle_s=2)
        uid = uid_of(deck_home, "tiny")
        assert deck_home.row("tiny")["unload_when_idle_s"] == 2
        async with gateway() as app:
            answer = await app.post("/v1/completions", json={"model": "tiny", "prompt": "hi", "max_tokens": 2})
        assert answer.status_code == 200
        await until(lambda: card_line(user, uid, "unload").startswith("idle · unloads at "), message="the countdown")
        assert card_line(user, uid, "unload").endswith("(2 s after the last request)")
        assert card_of(user, uid).face["unload_at"] > 0  # what the browser counts down to
        await until(lambda: deck_home.row("tiny")["status"] == "stopped", within=10, message="unloaded")
        await until(lambda: card_line(user, uid, "waiting") == "idle: no request for 2 s", message="why it stopped")
        assert card_line(user, uid, "unload") == "" and card_line(user, uid, "problem") == ""  # no error, no countdown
