"""The embedded runner is reachable from this machine only, and only with its token."""

from __future__ import annotations

import socket
from pathlib import Path
from urllib.parse import urlparse

import aiohttp

from auth.first_start import lan_address
from runner.embedded import start_embedded_runner


async def test_the_embedded_runner_listens_on_loopback_only(tmp_path: Path) -> None:
    runner = await start_embedded_runner(model_dirs=[tmp_path], allow_build=False, metrics_interval=60)
    try:
        url = urlparse(runner.url)
        assert url.hostname == "127.0.0.1" and url.port
        lan = lan_address("0.0.0.0")
        if not lan.startswith("127."):  # from the LAN address of this very machine: nobody answers
            with socket.socket() as probe:
                assert probe.connect_ex((lan, url.port)) != 0
        async with aiohttp.ClientSession() as session:
            async with session.get(f"{runner.url}/v1/snapshot") as response:
                assert response.status == 401  # no token, no answer
            async with session.get(f"{runner.url}/v1/snapshot",
                                   headers={"Authorization": f"Bearer {runner.token}"}) as response:
                assert response.status == 200
        assert len(runner.token) >= 32
    finally:
        await runner.close()
