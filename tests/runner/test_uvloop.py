"""The dashboard runs on uvloop (uvicorn picks it), so its embedded runner must spawn, watch and stop
llama-server there too: a plain asyncio loop would hide a spawn that uvloop does not support."""

from __future__ import annotations

import os
import signal
from collections.abc import Callable
from pathlib import Path

import uvloop

from protocol.config import ModelConfig
from protocol.status import ModelStatus
from tests.processes import gone
from tests.runner.conftest import serving
from tests.waiting import until


def test_start_crash_and_stop_on_uvloop(llama_server_binary: Path, tmp_path: Path,
                                        model_config: Callable[..., ModelConfig]) -> None:
    async def scenario() -> None:
        async with serving(llama_server_binary, tmp_path) as runner:
            feed = await runner.feed()
            config = model_config()
            assert (await runner.start(config))["accepted"] is True
            pid = (await feed.status(config.uid, ModelStatus.RUNNING)).pid
            assert pid is not None
            keeper = os.getpgid(pid)

            os.kill(pid, signal.SIGKILL)  # the exit is seen and reported with its code
            crashed = await feed.status(config.uid, ModelStatus.ERROR, within=2)
            assert crashed.exit_code == -signal.SIGKILL

            assert (await runner.start(config))["accepted"] is True
            pid = (await feed.status(config.uid, ModelStatus.RUNNING)).pid
            assert pid is not None
            assert (await runner.stop(config.uid))["accepted"] is True
            await feed.status(config.uid, ModelStatus.STOPPED)
            assert gone(pid)
        await until(lambda: gone(keeper), message="the keeper ended with the runner")

    uvloop.run(scenario())
