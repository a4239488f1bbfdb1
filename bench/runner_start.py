"""Time from a start command to the `running` event, against llama-server's own spawn-to-/health-200.

Same binary, same tiny model, same arguments, interleaved repetitions in one run. Two runners:
standalone (its own process, `python -m runner`: the runner's cost alone) and embedded (in this
process, as in the dashboard, so this client's own work on the same event loop counts too). Prints
medians, their ratios to the direct start (goal <= 1.05) and the readiness lag: how long after
/health first answers 200 (seen by a 1 ms poller here) the `running` event arrives.
Run: .venv/bin/python bench/runner_start.py
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp
import uvloop

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from live.runner_client import RunnerClient
from protocol.config import ModelConfig
from protocol.messages import StatusEvent, parse_event
from protocol.status import ModelStatus
from runner.binary import resolve_binary
from runner.embedded import start_embedded_runner
from runner.process import free_port, health_ok
from tests.tiny_gguf import write_tiny_llama

ROOT = Path(__file__).resolve().parents[1]


async def first_200(port: int, proc: subprocess.Popen[bytes] | None = None) -> float:
    """perf_counter() when /health first answers 200, polled every millisecond (the measurement's pace)."""
    while not await health_ok(port):  # polling is the measurement here, not synchronisation
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"llama-server exited with {proc.returncode}")
        await asyncio.sleep(0.001)
    return time.perf_counter()


async def direct_start(binary: Path, config: ModelConfig) -> float:
    """Spawn llama-server ourselves (a plain vfork, the fastest spawn there is) and poll /health every
    millisecond: its own start time."""
    port = free_port()
    args = [str(binary), *config.server_args(), "--host", "127.0.0.1", "--port", str(port), "--metrics"]
    began = time.perf_counter()
    proc = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,  # noqa: ASYNC220
                            start_new_session=True)
    try:
        return await first_200(port, proc) - began
    finally:
        proc.terminate()
        try:  # llama-server can miss a SIGTERM that lands just after /health turns 200
            proc.wait(2)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@contextlib.asynccontextmanager
async def standalone_runner(binary: Path, model_dir: Path) -> AsyncIterator[tuple[str, str]]:
    """`python -m runner` in its own process; yields its URL and token."""
    token = secrets.token_urlsafe(16)
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "runner", "--port", "0", f"--token={token}", "--llama-server", str(binary),
        "--model-dir", str(model_dir), "--work-dir", str(model_dir.parent / "runner-work"), "--no-build",
        "--log-level", "WARNING", stdout=subprocess.PIPE, cwd=ROOT)
    try:
        assert proc.stdout is not None
        first = (await asyncio.wait_for(proc.stdout.readline(), 30)).decode()
        yield first.split()[-1], token
    finally:
        proc.terminate()
        await proc.wait()


@contextlib.asynccontextmanager
async def embedded_runner(binary: Path, model_dir: Path) -> AsyncIterator[tuple[str, str]]:
    runner = await start_embedded_runner(llama_server=binary, model_dirs=[model_dir], allow_build=False)
    try:
        yield runner.url, runner.token
    finally:
        await runner.close()


class RunnerBench:
    def __init__(self, url: str, token: str, session: aiohttp.ClientSession,
                 ws: aiohttp.ClientWebSocketResponse) -> None:
        self.ws = ws
        self.client = RunnerClient(url, token, session)  # the dashboard's own client

    async def _status(self, uid: str, *wanted: ModelStatus) -> StatusEvent:
        while True:
            msg = await self.ws.receive(timeout=10)
            event = parse_event(msg.data)
            if isinstance(event, StatusEvent) and event.process.uid == uid and event.process.status in wanted:
                return event

    async def start(self, config: ModelConfig, watch_health: bool = False) -> tuple[float, float | None]:
        """Seconds from the start command to the running event, and the readiness lag (with watch_health)."""
        poller: asyncio.Task[float] | None = None
        began = time.perf_counter()
        assert (await self.client.start(config)).accepted, "start refused"
        while True:
            event = await self._status(config.uid, ModelStatus.STARTING, ModelStatus.RUNNING, ModelStatus.ERROR)
            state = event.process
            if state.status is ModelStatus.ERROR:
                raise RuntimeError(state.reason)
            if watch_health and poller is None and state.port:
                poller = asyncio.create_task(first_200(state.port))
            if state.status is ModelStatus.RUNNING:
                ran = time.perf_counter()
                break
        healthy_at = await asyncio.wait_for(poller, 5) if poller is not None else None
        assert (await self.client.stop(config.uid)).accepted
        await self._status(config.uid, ModelStatus.STOPPED)
        lag = ran - healthy_at if healthy_at is not None else None
        return ran - began, lag


@dataclass
class Figures:
    direct: list[float] = field(default_factory=list)  # llama-server alone, interleaved with `took`
    took: list[float] = field(default_factory=list)  # start command -> running event
    lags: list[float] = field(default_factory=list)

    def report(self, name: str) -> None:
        direct, took = statistics.median(self.direct), statistics.median(self.took)
        print(f"  {name} runner:")
        print(f"    llama-server spawn -> /health 200 (direct): {ms(self.direct)}")
        print(f"    start command -> running event:             {ms(self.took)}")
        print(f"    ratio {took / direct:.3f} (goal <= 1.05); the runner adds {(took - direct) * 1000:.1f} ms")
        print(f"    readiness lag (/health 200 seen by a 1 ms poller -> running event): median "
              f"{statistics.median(self.lags) * 1000:.1f} ms, max {max(self.lags) * 1000:.1f} ms (goal < 50 ms)")


async def measure(runner: contextlib.AbstractAsyncContextManager[tuple[str, str]], binary: Path,
                  config: ModelConfig, repetitions: int) -> Figures:
    figures = Figures()
    async with runner as (url, token), aiohttp.ClientSession() as session, session.ws_connect(
            f"{url}/v1/events", headers={"Authorization": f"Bearer {token}"}) as ws:
        await ws.receive(timeout=5)  # the snapshot
        bench = RunnerBench(url, token, session, ws)
        await bench.start(config)  # warm up
        for _ in range(repetitions):  # interleaved with direct starts, so drift hits both alike
            figures.direct.append(await direct_start(binary, config))
            figures.took.append((await bench.start(config))[0])
        for _ in range(repetitions):
            lag = (await bench.start(config, watch_health=True))[1]
            if lag is not None:
                figures.lags.append(lag)
    return figures


def ms(values: list[float]) -> str:
    return (f"median {statistics.median(values) * 1000:.1f} ms "
            f"(min {min(values) * 1000:.1f}, max {max(values) * 1000:.1f})")


@dataclass(frozen=True)
class Shape:
    n_embd: int
    n_layer: int
    n_head: int
    n_head_kv: int
    n_ff: int

    def write(self, path: Path) -> Path:
        return write_tiny_llama(path, n_embd=self.n_embd, n_layer=self.n_layer, n_head=self.n_head,
                                n_head_kv=self.n_head_kv, n_ff=self.n_ff)


MODELS = {
    # The tests' toy model (0.5 MB): it loads in about 20 ms, so the runner's fixed cost weighs most here.
    "toy": Shape(n_embd=64, n_layer=2, n_head=4, n_head_kv=4, n_ff=128),
    # The shape of the smallest chat models people run (SmolLM2-135M: 576 wide, 30 blocks, 9 heads,
    # 3 KV heads), in f32: about 430 MB, written in a few seconds.
    "smallest-real": Shape(n_embd=576, n_layer=30, n_head=9, n_head_kv=3, n_ff=1536),
}


async def main(models: list[str], repetitions: int) -> None:
    binary = resolve_binary()
    print(f"binary: {binary}; {repetitions} starts per runner and model, on {os.cpu_count()} CPUs")
    with tempfile.TemporaryDirectory(prefix="modeldeck-bench-") as tmp:
        for name in models:
            model = MODELS[name].write(Path(tmp) / f"{name}.gguf")
            config = ModelConfig(name="bench", model_path=str(model), ctx_size=256, threads=1, batch_size=64)
            await direct_start(binary, config)  # warm the page cache for all
            print(f"model {name}: {model.stat().st_size / 1e6:.1f} MB, {MODELS[name]}")
            for runner_name, runner in (("standalone", standalone_runner(binary, Path(tmp))),
                                        ("embedded", embedded_runner(binary, Path(tmp)))):
                (await measure(runner, binary, config, repetitions)).report(runner_name)
            model.unlink()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("-n", "--repetitions", type=int, default=20)
    parser.add_argument("--models", nargs="+", choices=list(MODELS), default=list(MODELS))
    options = parser.parse_args()
    uvloop.run(main(options.models, options.repetitions))  # the dashboard's loop
