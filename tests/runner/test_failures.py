"""Crashes and refusals end in `error` with llama-server's own reason; the runner keeps serving."""

from __future__ import annotations

import os
import signal
import socket
import time
from collections.abc import Callable
from pathlib import Path

import aiohttp

from protocol.config import ModelConfig, RestartPolicy
from protocol.messages import LogEvent, StatusEvent
from protocol.status import ModelStatus
from runner.embedded import start_embedded_runner
from runner.process import health_ok
from tests.runner.conftest import RunnerClient
from tests.tiny_gguf import write_broken_gguf, write_tiny_llama


async def test_kill_9_reports_error_within_a_second(runner: RunnerClient,
                                                     model_config: Callable[..., ModelConfig]) -> None:
    feed = await runner.feed()
    config = model_config()
    await runner.start(config)
    running = await feed.status(config.uid, ModelStatus.RUNNING)
    assert running.pid is not None

    killed_at = time.monotonic()
    os.kill(running.pid, signal.SIGKILL)
    error = await feed.status(config.uid, ModelStatus.ERROR, within=1.0)
    assert time.monotonic() - killed_at < 1.0
    assert error.exit_code == -9
    assert error.reason == "killed by signal SIGKILL"
    assert error.last_lines and any("load_model" in line for line in error.last_lines)


async def test_on_failure_restarts_after_a_crash(runner: RunnerClient,
                                                 model_config: Callable[..., ModelConfig]) -> None:
    feed = await runner.feed()
    config = model_config(restart_policy=RestartPolicy.ON_FAILURE, restart_limit=2)
    await runner.start(config)
    first = await feed.status(config.uid, ModelStatus.RUNNING)
    os.kill(first.pid or 0, signal.SIGKILL)
    error = await feed.status(config.uid, ModelStatus.ERROR, within=1.0)
    assert error.restart is not None and (error.restart.attempt, error.restart.limit) == (1, 2)
    assert error.reason == "killed by signal SIGKILL"  # the restart is said apart from the reason
    back = await feed.status(config.uid, ModelStatus.RUNNING)
    assert back.pid != first.pid and back.restarts == 1


async def test_a_crash_loop_ends_in_error(runner: RunnerClient, model_config: Callable[..., ModelConfig],
                                          tmp_path: Path) -> None:
    feed = await runner.feed()
    broken = write_broken_gguf(tmp_path / "models" / "broken.gguf")
    config = model_config(model_path=str(broken), restart_policy=RestartPolicy.ON_FAILURE, restart_limit=2)
    await runner.start(config)
    starts = set()  # a start may say more than once why it waits (for the binary, say): count each attempt once
    while True:
        state = await feed.status(config.uid, ModelStatus.STARTING, ModelStatus.ERROR, ModelStatus.RUNNING)
        assert state.status is not ModelStatus.RUNNING
        if state.status is ModelStatus.STARTING and state.pid is None:
            starts.add(state.restarts)
        if state.status is ModelStatus.ERROR and state.restart is None:
            break
    assert starts == {0, 1, 2}  # the first start and restart_limit restarts
    assert state.exit_code == 1 and state.restarts == 2
    assert (state.reason or "").startswith("gguf_init_from_reader:"), state.reason


async def test_failures_keep_other_models_serving(runner: RunnerClient, model_config: Callable[..., ModelConfig],
                                                  tmp_path: Path) -> None:
    feed = await runner.feed()
    healthy = model_config()
    await runner.start(healthy)
    running = await feed.status(healthy.uid, ModelStatus.RUNNING)

    broken = model_config(model_path=str(write_broken_gguf(tmp_path / "models" / "broken.gguf")))
    missing = model_config(model_path=str(tmp_path / "models" / "missing.gguf"))
    flag = model_config(extra_args=["--numa", "bogus"])  # allowed, but llama-server refuses the value
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port_in_use = model_config(port=taken.getsockname()[1])
        for config in (broken, missing, flag, port_in_use):
            assert (await runner.start(config))["accepted"] is True
        reasons: dict[str, str] = {}
        names = {config.uid: config.name for config in (broken, missing, flag, port_in_use)}
        while len(reasons) < len(names):
            event = await feed.wait_for(lambda e: isinstance(e, StatusEvent) and e.process.uid in names
                                        and e.process.status in (ModelStatus.ERROR, ModelStatus.RUNNING))
            assert isinstance(event, StatusEvent) and event.process.status is ModelStatus.ERROR, event
            reasons[names[event.process.uid]] = event.process.reason or ""

    assert reasons[broken.name].startswith("gguf_init_from_reader:"), reasons[broken.name]
    assert broken.model_path in reasons[broken.name]
    assert reasons[missing.name] == f"no such file: {missing.model_path}"
    assert "--numa" in reasons[flag.name], reasons[flag.name]
    assert "couldn't bind" in reasons[port_in_use.name], reasons[port_in_use.name]
    assert await health_ok(running.port or 0)
    _, snapshot = await runner.get("/v1/snapshot")
    statuses = {p["name"]: p["status"] for p in snapshot["processes"]}
    assert statuses[healthy.name] == "running"


async def test_a_file_outside_the_model_folders_is_refused(runner: RunnerClient,
                                                           model_config: Callable[..., ModelConfig],
                                                           tmp_path: Path) -> None:
    feed = await runner.feed()
    outside = model_config(model_path=str(write_tiny_llama(tmp_path / "out.gguf")))
    await runner.start(outside)
    error = await feed.status(outside.uid, ModelStatus.ERROR)
    assert error.reason == "the file is outside the allowed model folders"
    assert error.pid is None


async def test_error_lines_arrive_as_log_events_before_the_status(runner: RunnerClient,
                                                                  model_config: Callable[..., ModelConfig]) -> None:
    feed = await runner.feed()
    config = model_config(extra_args=["--numa", "bogus"])
    await runner.start(config)
    logs = await feed.wait_for(lambda e: isinstance(e, LogEvent) and e.uid == config.uid)
    assert isinstance(logs, LogEvent) and logs.lines
    await feed.status(config.uid, ModelStatus.ERROR)


async def test_without_model_folders_llama_server_explains_a_missing_file(
        llama_server_binary: Path, tmp_path: Path) -> None:
    embedded = await start_embedded_runner(llama_server=llama_server_binary, allow_build=False)
    try:
        async with aiohttp.ClientSession(headers={"Authorization": f"Bearer {embedded.token}"}) as session:
            client = RunnerClient(embedded, session)
            feed = await client.feed()
            config = ModelConfig(name="gone", model_path=str(tmp_path / "missing.gguf"), ctx_size=256, threads=1)
            await client.start(config)
            error = await feed.status(config.uid, ModelStatus.ERROR)
            await client.close()
    finally:
        await embedded.close()
    assert error.exit_code == 1
    assert "failed to open GGUF file" in (error.reason or "") and "missing.gguf" in (error.reason or ""), error.reason


async def test_a_clean_exit_on_its_own_is_stopped_not_restarted(runner: RunnerClient,
                                                                model_config: Callable[..., ModelConfig]) -> None:
    feed = await runner.feed()
    config = model_config(restart_policy=RestartPolicy.ON_FAILURE)
    await runner.start(config)
    running = await feed.status(config.uid, ModelStatus.RUNNING)

    def listening(event: object) -> bool:
        return isinstance(event, LogEvent) and any("listening on" in line.text for line in event.lines)

    # /health can say 200 a moment before llama-server installs its SIGTERM handler.
    if not any(listening(event) for event in feed.seen):
        await feed.wait_for(listening)
    os.kill(running.pid or 0, signal.SIGTERM)  # e.g. a system shutdown: llama-server exits 0
    stopped = await feed.status(config.uid, ModelStatus.STOPPED, ModelStatus.ERROR, ModelStatus.STARTING)
    assert stopped.status is ModelStatus.STOPPED and stopped.exit_code == 0 and stopped.reason
