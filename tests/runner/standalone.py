"""A standalone runner (`python -m runner`) in a process of its own, running real llama-servers."""

from __future__ import annotations

import asyncio
import contextlib
import os
import resource
import secrets
import signal
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import aiohttp

from protocol.config import ModelConfig
from protocol.messages import SnapshotEvent, StatusEvent, parse_event
from tests.processes import gone
from tests.waiting import until

ROOT = Path(__file__).parents[2]


@dataclass
class StandaloneRunner:
    host: asyncio.subprocess.Process  # python -m runner
    url: str
    token: str
    servers: list[int]  # llama-server pids, each running
    keeper: int  # the lifeline keeper: leader of the servers' process group
    output: Path  # what the runner printed and logged

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    async def kill_9(self, pid: int) -> None:
        os.kill(pid, signal.SIGKILL)
        if pid == self.host.pid:
            await self.host.wait()

    async def nothing_left(self) -> None:
        await until(lambda: all(gone(pid) for pid in [*self.servers, self.keeper]), within=5,
                    message="llama-servers and keeper gone")


@contextlib.asynccontextmanager
async def standalone_runner(binary: Path, tmp_path: Path, configs: list[ModelConfig], *, port: int = 0,
                            token: str | None = None, fd_limit: int | None = None) -> AsyncIterator[StandaloneRunner]:
    """The runner on `port` (0: any) running every config, with at most `fd_limit` open files if given; it
    answers once this yields, and it and whatever is left of its servers are killed after."""

    def limit_files() -> None:  # in the child, before exec
        if fd_limit is not None:
            resource.setrlimit(resource.RLIMIT_NOFILE, (fd_limit, fd_limit))

    token = token or secrets.token_urlsafe(16)
    output = tmp_path / "runner.log"
    with output.open("ab") as log:
        host = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "runner", "--port", str(port), f"--token={token}", "--llama-server", str(binary),
            "--model-dir", str(tmp_path / "models"), "--work-dir", str(tmp_path / "runner-work"), "--no-build",
            "--log-level", "WARNING", stdout=asyncio.subprocess.PIPE, stderr=log, cwd=ROOT, preexec_fn=limit_files)
    pids: list[int] = []
    try:
        assert host.stdout is not None
        first = (await asyncio.wait_for(host.stdout.readline(), 20)).decode()
        assert first.startswith("runner listening on "), output.read_text(errors="replace")
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
        keeper = os.getpgid(pids[0]) if pids else 0
        assert keeper not in (host.pid, *pids) and all(os.getpgid(pid) == keeper for pid in pids)
        yield StandaloneRunner(host, url, token, pids, keeper, output)
    finally:
        if host.returncode is None:
            host.kill()
            await host.wait()
        for pid in pids:  # never leave one behind, even when the test fails
            if not gone(pid):
                os.kill(pid, signal.SIGKILL)
