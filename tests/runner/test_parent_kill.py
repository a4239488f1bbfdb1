"""No llama-server outlives the process hosting the runner, whoever dies first: kill -9 of the runner, of
the runner together with its keeper (what `pkill -9 -f runner` does), or of the keeper and later the runner."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from protocol.config import ModelConfig
from tests.processes import gone
from tests.runner.standalone import standalone_runner
from tests.waiting import until


async def test_kill_9_of_the_runner_process_kills_its_servers(llama_server_binary: Path, tmp_path: Path,
                                                              model_config: Callable[..., ModelConfig]) -> None:
    async with standalone_runner(llama_server_binary, tmp_path, [model_config(), model_config()]) as runner:
        await runner.kill_9(runner.host.pid)
        await runner.nothing_left()


async def test_kill_9_of_the_runner_together_with_its_keeper_kills_its_servers(
        llama_server_binary: Path, tmp_path: Path, model_config: Callable[..., ModelConfig]) -> None:
    configs = [model_config(), model_config(), model_config()]
    async with standalone_runner(llama_server_binary, tmp_path, configs) as runner:
        await runner.kill_9(runner.keeper)  # one right after the other, as pkill does: no time to react
        await runner.kill_9(runner.host.pid)
        await runner.nothing_left()


async def test_kill_9_of_the_keeper_and_later_of_the_runner_kills_its_servers(
        llama_server_binary: Path, tmp_path: Path, model_config: Callable[..., ModelConfig]) -> None:
    async with standalone_runner(llama_server_binary, tmp_path, [model_config(), model_config()]) as runner:
        await runner.kill_9(runner.keeper)
        await until(lambda: gone(runner.keeper), message="the keeper gone")
        assert not any(gone(pid) for pid in runner.servers)  # the servers keep serving meanwhile
        await runner.kill_9(runner.host.pid)
        await runner.nothing_left()
