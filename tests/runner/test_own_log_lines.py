"""ModelDeck's own lines in a model's log: what the runner did to a server and what it saw it do,
with a level, before the status that reports it (a person reading the log sees why it ended)."""

from __future__ import annotations

import os
import re
import signal
from collections.abc import Callable
from pathlib import Path

from protocol.config import ModelConfig
from protocol.messages import LogEvent, LogLine, ProcessState, StatusEvent
from protocol.status import ModelStatus
from tests.runner.conftest import Feed, RunnerClient
from tests.tiny_gguf import write_broken_gguf


def own_lines_before(feed: Feed, uid: str, status: ModelStatus) -> list[LogLine]:
    """ModelDeck's lines of `uid` that arrived before its (first) `status` event."""
    lines: list[LogLine] = []
    for event in feed.seen:
        if isinstance(event, StatusEvent) and event.process.uid == uid and event.process.status is status:
            return lines
        if isinstance(event, LogEvent) and event.uid == uid:
            lines += [line for line in event.lines if line.text.startswith("ModelDeck: ")]
    raise AssertionError(f"no {status} event for {uid}")


async def a_running_server(runner: RunnerClient, model_config: Callable[..., ModelConfig],
                           ) -> tuple[Feed, ModelConfig, ProcessState]:
    """The runner's feed, a model's configuration, and its server once running."""
    feed = await runner.feed()
    config = model_config()
    await runner.start(config)
    return feed, config, await feed.status(config.uid, ModelStatus.RUNNING)


async def test_a_stop_is_written_with_the_signal_and_how_long_it_took(
        runner: RunnerClient, model_config: Callable[..., ModelConfig]) -> None:
    feed, config, running = await a_running_server(runner, model_config)
    await runner.stop(config.uid)
    await feed.status(config.uid, ModelStatus.STOPPED)
    started, stopped = own_lines_before(feed, config.uid, ModelStatus.STOPPED)
    assert started.level == "I" and started.text.startswith(f"ModelDeck: started pid {running.pid}: ")
    assert stopped.level == "I"
    # How it ended is llama-server's race, said either way: its handler exits 0; a SIGTERM that lands just
    # before it installs the handler (as /health turns 200) ends it by the signal's default action.
    assert re.fullmatch(r"ModelDeck: stopped \(SIGTERM\) after \d+(\.\d)? m?s, (exit code 0|ended by SIGTERM)",
                        stopped.text), stopped.text


async def test_a_kill_is_written_as_an_error_with_the_signal_and_the_time_it_ran(
        runner: RunnerClient, model_config: Callable[..., ModelConfig]) -> None:
    feed, config, running = await a_running_server(runner, model_config)
    os.kill(running.pid or 0, signal.SIGKILL)
    error = await feed.status(config.uid, ModelStatus.ERROR)
    *_, ended = own_lines_before(feed, config.uid, ModelStatus.ERROR)
    assert ended.level == "E"
    assert re.fullmatch(r"ModelDeck: llama-server was killed by SIGKILL after running \d+(\.\d)? m?s", ended.text), \
        ended.text
    assert error.reason == "killed by signal SIGKILL"  # the runner's own lines are not taken for the server's words


async def test_an_exit_code_is_written_and_the_reason_stays_llama_servers(
        runner: RunnerClient, model_config: Callable[..., ModelConfig], tmp_path: Path) -> None:
    feed = await runner.feed()
    config = model_config(model_path=str(write_broken_gguf(tmp_path / "models" / "broken.gguf")))
    await runner.start(config)
    error = await feed.status(config.uid, ModelStatus.ERROR)
    *_, ended = own_lines_before(feed, config.uid, ModelStatus.ERROR)
    assert ended.level == "E" and ended.text.startswith("ModelDeck: llama-server exited with code 1 after running ")
    assert error.exit_code == 1 and "ModelDeck" not in (error.reason or "")
