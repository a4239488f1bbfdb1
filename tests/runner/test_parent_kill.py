"""kill -9 of the process hosting the runner leaves no llama-server behind, nor the keeper (lifeline.py)."""

from __future__ import annotations

import asyncio
import os
import secrets
import signal
import sys
from collections.abc import Callable
from pathlib import Path

import aiohttp

from protocol.config import ModelConfig
from protocol.messages import SnapshotEvent, StatusEvent, parse_event
from tests.processes import gone
from tests.waiting import until


async def test_kill_9_of_the_runner_process_kills_its_servers(llama_server_binary: Path, tmp_path: Path,
                                                              model_config: Callable[..., ModelConfig]) -> None:
    token = secrets.token_urlsafe(16)
    host = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "runner", "--port", "0", "--token", token, "--llama-server", str(llama_server_binary),
        "--model-dir", str(tmp_path / "models"), "--work-dir", str(tmp_path / "work"), "--no-build",
        "--log-level", "WARNING", stdout=asyncio.subprocess.PIPE, cwd=Path(__file__).parents[2])
    pids: list[int] = []
    try:
        assert host.stdout is not None
        first = (await asyncio.wait_for(host.stdout.readline(), 20)).decode()
        url = first.split()[-1]
        configs = [model_config(), model_config()]
        async with aiohttp.ClientSession(headers={"Authorization": f"Bearer {token}"}) as session:
            async with session.ws_connect(f"{url}/v1/events") as ws:
                assert isinstance(parse_event((await ws.receive(timeout=5)).data), SnapshotEvent)
                for config in configs:
                    async with session.post(f"{url}/v1/start", json={"config": config.model_dump(mode="json")}) as r:
                        assert (await r.json())["accepted"] is True
                async with asyncio.timeout(10):
                    while len(pids) < len(configs):
                        event = parse_event((await ws.receive()).data)
                        if isinstance(event, StatusEvent) and event.process.status == "running":
                            assert event.process.pid is not None
                            pids.append(event.process.pid)
        assert all(not gone(pid) for pid in pids)
        keeper = os.getpgid(pids[0])  # the servers' process group is led by the runner's keeper
        assert keeper not in (host.pid, *pids) and os.getpgid(pids[1]) == keeper

        os.kill(host.pid, signal.SIGKILL)
        await host.wait()
        await until(lambda: all(gone(pid) for pid in [*pids, keeper]), within=5,
                    message="llama-servers and keeper gone")
    finally:
        if host.returncode is None:
            host.kill()
            await host.wait()
        for pid in pids:  # never leave one behind, even when the test fails
            if not gone(pid):
                os.kill(pid, signal.SIGKILL)
