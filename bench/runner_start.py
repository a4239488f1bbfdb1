"""Time from a start command to the `running` event, against llama-server's own spawn-to-/health-200.

Same binary, same tiny model, same arguments, interleaved repetitions in one run. Prints medians,
their ratio (goal <= 1.05) and the readiness lag: how long after /health first answers 200 (seen by
a 1 ms poller here) the runner's `running` event arrives. Run: .venv/bin/python bench/runner_start.py
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from protocol.config import ModelConfig
from protocol.messages import StatusEvent, parse_event
from protocol.status import ModelStatus
from runner.binary import resolve_binary
from runner.embedded import EmbeddedRunner, start_embedded_runner
from runner.process import free_port, health_ok
from tests.tiny_gguf import write_tiny_llama


async def first_200(port: int, proc: asyncio.subprocess.Process | None = None) -> float:
    """perf_counter() when /health first answers 200, polled every millisecond (the measurement's pace)."""
    while not await health_ok(port):  # polling is the measurement here, not synchronisation
        if proc is not None and proc.returncode is not None:
            raise RuntimeError(f"llama-server exited with {proc.returncode}")
        await asyncio.sleep(0.001)
    return time.perf_counter()


async def direct_start(binary: Path, config: ModelConfig) -> float:
    """Spawn llama-server ourselves and poll /health every millisecond: its own start time."""
    port = free_port()
    args = [str(binary), *config.server_args(), "--host", "127.0.0.1", "--port", str(port), "--metrics"]
    began = time.perf_counter()
    proc = await asyncio.create_subprocess_exec(*args, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                                stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        return await first_200(port, proc) - began
    finally:
        proc.terminate()
        try:  # llama-server can miss a SIGTERM that lands just after /health turns 200
            await asyncio.wait_for(proc.wait(), 2)
        except TimeoutError:
            proc.kill()
            await proc.wait()


class RunnerBench:
    def __init__(self, runner: EmbeddedRunner, session: aiohttp.ClientSession,
                 ws: aiohttp.ClientWebSocketResponse) -> None:
        self.runner, self.session, self.ws = runner, session, ws
        self.headers = {"Authorization": f"Bearer {runner.token}"}

    async def _status(self, uid: str, *wanted: ModelStatus) -> StatusEvent:
        while True:
            msg = await self.ws.receive(timeout=10)
            event = parse_event(msg.data)
            if isinstance(event, StatusEvent) and event.process.uid == uid and event.process.status in wanted:
                return event

    async def start(self, config: ModelConfig, watch_health: bool = False) -> tuple[float, float | None, float]:
        """Seconds from POST /v1/start to the running event; the readiness lag (with watch_health); and
        seconds from the command to the spawn returning (started_at: includes fork and exec)."""
        poller: asyncio.Task[float] | None = None
        began, began_wall = time.perf_counter(), time.time()
        async with self.session.post(f"{self.runner.url}/v1/start", headers=self.headers,
                                     json={"config": config.model_dump(mode="json")}) as reply:
            assert (await reply.json())["accepted"], "start refused"
        while True:
            event = await self._status(config.uid, ModelStatus.STARTING, ModelStatus.RUNNING, ModelStatus.ERROR)
            state = event.process
            if state.status is ModelStatus.ERROR:
                raise RuntimeError(state.reason)
            if watch_health and poller is None and state.port:
                poller = asyncio.create_task(first_200(state.port))
            if state.status is ModelStatus.RUNNING:
                ran = time.perf_counter()
                assert state.started_at is not None
                to_spawned = state.started_at.timestamp() - began_wall
                break
        healthy_at = await asyncio.wait_for(poller, 5) if poller is not None else None
        async with self.session.post(f"{self.runner.url}/v1/stop", headers=self.headers,
                                     json={"uid": config.uid}) as reply:
            assert (await reply.json())["accepted"]
        await self._status(config.uid, ModelStatus.STOPPED)
        lag = ran - healthy_at if healthy_at is not None else None
        return ran - began, lag, to_spawned


async def main(repetitions: int, n_embd: int, n_layer: int) -> None:
    binary = resolve_binary()
    with tempfile.TemporaryDirectory(prefix="modeldeck-bench-") as tmp:
        model = write_tiny_llama(Path(tmp) / "tiny.gguf", n_embd=n_embd, n_layer=n_layer, n_ff=2 * n_embd)
        config = ModelConfig(name="bench", model_path=str(model), ctx_size=256, threads=1, batch_size=64)
        runner = await start_embedded_runner(llama_server=binary, model_dirs=[Path(tmp)], allow_build=False)
        try:
            async with aiohttp.ClientSession() as session, session.ws_connect(
                    f"{runner.url}/v1/events", headers={"Authorization": f"Bearer {runner.token}"}) as ws:
                await ws.receive(timeout=5)  # the snapshot
                bench = RunnerBench(runner, session, ws)
                await direct_start(binary, config)  # warm the page cache for both
                await bench.start(config)
                direct, via_runner, lags, spawned = [], [], [], []
                for _ in range(repetitions):  # interleaved, so drift hits both alike
                    direct.append(await direct_start(binary, config))
                    took, _, to_spawned = await bench.start(config)
                    via_runner.append(took)
                    spawned.append(to_spawned)
                for _ in range(repetitions):
                    lag = (await bench.start(config, watch_health=True))[1]
                    if lag is not None:
                        lags.append(lag)
        finally:
            await runner.close()
    d, r = statistics.median(direct), statistics.median(via_runner)
    print(f"binary: {binary}")
    print(f"repetitions: {repetitions}; model: embedding {n_embd}, {n_layer} blocks")
    print(f"llama-server spawn -> /health 200 (direct): median {d * 1000:.1f} ms "
          f"(min {min(direct) * 1000:.1f}, max {max(direct) * 1000:.1f})")
    print(f"start command -> running event (runner):   median {r * 1000:.1f} ms "
          f"(min {min(via_runner) * 1000:.1f}, max {max(via_runner) * 1000:.1f})")
    print(f"  of which command -> spawn returned (HTTP, checks, fork+exec): median "
          f"{statistics.median(spawned) * 1000:.1f} ms")
    print(f"ratio runner/direct: {r / d:.3f} (goal <= 1.05)")
    if lags:
        print(f"readiness lag (/health 200 seen by a 1 ms poller -> running event): median "
              f"{statistics.median(lags) * 1000:.1f} ms, max {max(lags) * 1000:.1f} ms (goal < 50 ms)")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("-n", "--repetitions", type=int, default=15)
    parser.add_argument("--n-embd", type=int, default=64, help="a bigger model shows the fixed overhead shrink")
    parser.add_argument("--n-layer", type=int, default=2)
    options = parser.parse_args()
    asyncio.run(main(options.repetitions, options.n_embd, options.n_layer))
