"""A card as a person sees the gateway's traffic in a real browser: requests in flight, and the idle countdown,
which the browser counts down itself. Screenshots in test-artifacts/screens/card-traffic-*.png."""

from __future__ import annotations

from pathlib import Path

import aiohttp

from protocol import ModelConfig
from tests.browser.browser import DESKTOP, PHONE, Browser
from tests.browser.deck_app import DeckApp
from tests.gateway.conftest import seed
from tests.tiny_gguf import write_tiny_llama

LONG = {"messages": [{"role": "user", "content": "tell me everything"}], "max_tokens": 6000, "ignore_eos": True,
        "temperature": 0, "stream": True}


async def test_cards_show_requests_in_flight_and_count_down_to_the_idle_unload(
        browser: Browser, tmp_path: Path, llama_server_binary: Path) -> None:
    home = tmp_path / "home"
    model = str(write_tiny_llama(home / "models" / "tiny.gguf", n_ctx=8192))
    await seed(home, [ModelConfig(name="busy", model_path=model, ctx_size=8192, parallel=1),
                      ModelConfig(name="idle", model_path=model, ctx_size=256, unload_when_idle_s=600)], [])
    app = DeckApp(home, llama_server_binary)
    app.start()
    try:
        async with aiohttp.ClientSession() as http:
            async with http.post(f"{app.url}/v1/completions",
                                 json={"model": "idle", "prompt": "hi", "max_tokens": 2}) as answer:
                assert answer.status == 200
            stream = await http.post(f"{app.url}/v1/chat/completions", json={"model": "busy", **LONG})
            assert (await stream.content.readuntil(b"\n\n")).startswith(b"data: ")
            browser.open(app.url)
            in_flight = browser.see_text("1 in flight")  # the stream lasts seconds: look at it while it runs
            countdown = browser.see_text("idle · unloads in ")  # the browser's words: the server's say "at"
            for scheme in ("light", "dark"):
                browser.color_scheme(scheme)
                for view in (PHONE, DESKTOP):
                    browser.device(view)
                    browser.screenshot(f"card-traffic-{scheme}")
                    assert browser.horizontal_overflow() == 0
            assert in_flight.is_displayed()
            stream.close()
            before = countdown.text
            browser.wait.until(lambda _: countdown.text != before, "the countdown moving on")
            assert countdown.text.startswith(("idle · unloads in 9 min", "idle · unloads in 10 min"))
    finally:
        app.stop()
