"""Record a real runner's event feed for tests/store/test_replay.py: a tiny model started with restart
on failure, its figures, a kill -9, the runner's restart, and a stop. Every frame as the runner sent it.

    .venv/bin/python -m tests.store.record_feed   # rewrites tests/store/feeds/crash_and_restart.jsonl
"""

from __future__ import annotations

import asyncio
import os
import signal
import tempfile
from pathlib import Path

import aiohttp

from live.runner_client import RunnerClient
from protocol import ModelConfig, ModelStatus, RestartPolicy
from protocol.messages import MetricsEvent, StatusEvent, parse_event
from runner.binary import resolve_binary
from runner.embedded import start_embedded_runner
from tests.tiny_gguf import write_tiny_llama

FEED = Path(__file__).parent / "feeds" / "crash_and_restart.jsonl"
UID = "feed0000000000000000000000000000"
NAME = "recorded"


async def record() -> list[str]:
    frames: list[str] = []
    with tempfile.TemporaryDirectory(prefix="modeldeck-feed-") as tmp:
        model = write_tiny_llama(Path(tmp) / "models" / "tiny.gguf")
        config = ModelConfig(uid=UID, name=NAME, model_path=str(model), ctx_size=256,
                             restart_policy=RestartPolicy.ON_FAILURE, restart_limit=3)
        runner = await start_embedded_runner(llama_server=resolve_binary(), model_dirs=[Path(tmp) / "models"],
                                             metrics_interval=0.2)
        try:
            async with aiohttp.ClientSession() as session, session.ws_connect(
                    f"{runner.url}/v1/events", headers={"Authorization": f"Bearer {runner.token}"}) as ws:
                client = RunnerClient(runner.url, runner.token, session)

                async def until(done: type, status: ModelStatus | None = None, count: int = 1) -> None:
                    seen = 0
                    async with asyncio.timeout(30):
                        async for message in ws:
                            frames.append(message.data)
                            event = parse_event(message.data)
                            if isinstance(event, done) and (status is None or (
                                    isinstance(event, StatusEvent) and event.process.status is status)):
                                seen += 1
                                if seen == count:
                                    return

                assert (await client.start(config)).accepted
                await until(StatusEvent, ModelStatus.RUNNING)
                await until(MetricsEvent, count=2)
                pid = runner.supervisor.servers[UID].state.pid
                assert pid is not None
                os.kill(pid, signal.SIGKILL)
                await until(StatusEvent, ModelStatus.RUNNING)  # restarted by the runner
                await until(MetricsEvent, count=2)
                assert (await client.stop(UID)).accepted
                await until(StatusEvent, ModelStatus.STOPPED)
        finally:
            await runner.close()
    return frames


def main() -> None:
    frames = asyncio.run(record())
    FEED.write_text("".join(f"{frame}\n" for frame in frames))
    print(f"{len(frames)} frames -> {FEED}")


if __name__ == "__main__":
    main()
