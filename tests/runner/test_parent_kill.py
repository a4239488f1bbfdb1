"""No llama-server outlives the process hosting the runner, whoever dies first: kill -9 of the runner, of
the runner together with its keeper (what `pkill -9 -f runner` does), or of the keeper and later the runner."""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
import signal
import sys
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path

import aiohttp

from protocol.config import ModelConfig
from protocol.messages import SnapshotEvent, StatusEvent, parse_event
from tests.processes import gone
from tests.waiting import until


@dataclass
class RunnerWithServers:
    host: asyncio.subprocess.Process  # python -m runner
    servers: list[int]  # llama-server pids, each running
    keeper: int  # the lifeline keeper: leader of the servers' process group

    async def kill_9(self, pid: int) -> None:
        os.kill(pid, signal.SIGKILL)
        if pid == self.host.pid:
            await self.host.wait()

    async def nothing_left(self) -> None:
        await until(lambda: all(gone(pid) for pid in [*self.servers, self.keeper]), within=5,
                    message="llama-servers and keeper gone")


@contextlib.asynccontextmanager
async def runner_with_servers(binary: Path, tmp_path: Path, configs: list[ModelConfig]
                              ) -> AsyncIterator[RunnerWithServers]:
    """A standalone runner in its own process, running every config; whatever is left is killed after."""
    token = secrets.token_urlsafe(16)
    host = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "runner", "--port", "0", "--token", token, "--llama-server", str(binary),
        "--model-dir", str(tmp_path / "models"), "--no-build", "--log-level", "WARNING",
        stdout=asyncio.subprocess.PIPE, cwd=Path(__file__).parents[2])
    pids: list[int] = []
    try:
        assert host.stdout is not None
        first = (await asyncio.wait_for(host.stdout.readline(), 20)).decode()
        url = first.split()[-1]
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
        keeper = os.getpgid(pids[0])
        assert keeper not in (host.pid, *pids) and all(os.getpgid(pid) == keeper for pid in pids)
        yield RunnerWithServers(host, pids, keeper)
    finally:
        if host.returncode is None:
            host.kill()
            await host.wait()
        for pid in pids:  # never leave one behind, even when the test fails
            if not gone(pid):
                os.kill(pid, signal.SIGKILL)


async def test_kill_9_of_the_runner_process_kills_its_servers(llama_server_binary: Path, tmp_path: Path,
                                                              model_config: Callable[..., ModelConfig]) -> None:
    async with runner_with_servers(llama_server_binary, tmp_path, [model_config(), model_config()]) as runner:
        await runner.kill_9(runner.host.pid)
        await runner.nothing_left()


async def test_kill_9_of_the_runner_together_with_its_keeper_kills_its_servers(
        llama_server_binary: Path, tmp_path: Path, model_config: Callable[..., ModelConfig]) -> None:
    configs = [model_config(), model_config(), model_config()]
    async with runner_with_servers(llama_server_binary, tmp_path, configs) as runner:
        await runner.kill_9(runner.keeper)  # one right after the other, as pkill does: no time to react
        await runner.kill_9(runner.host.pid)
        await runner.nothing_left()


async def test_kill_9_of_the_keeper_and_later_of_the_runner_kills_its_servers(
        llama_server_binary: Path, tmp_path: Path, model_config: Callable[..., ModelConfig]) -> None:
    async with runner_with_servers(llama_server_binary, tmp_path, [model_config(), model_config()]) as runner:
        await runner.kill_9(runner.keeper)
        await until(lambda: gone(runner.keeper), message="the keeper gone")
        assert not any(gone(pid) for pid in runner.servers)  # the servers keep serving meanwhile
        await runner.kill_9(runner.host.pid)
        await runner.nothing_left()
