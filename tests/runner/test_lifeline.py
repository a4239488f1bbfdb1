"""The lifeline keeper (runner/lifeline.py): servers join its process group; losing it is loud, not fatal."""

from __future__ import annotations

import logging
import os
import signal
from collections.abc import Callable

import pytest

from protocol.config import ModelConfig
from protocol.status import ModelStatus
from tests.processes import gone
from tests.runner.conftest import RunnerClient
from tests.waiting import until


async def test_a_killed_keeper_is_reported_and_replaced_at_the_next_start(
        runner: RunnerClient, model_config: Callable[..., ModelConfig], caplog: pytest.LogCaptureFixture) -> None:
    feed = await runner.feed()
    first, second = model_config(), model_config()
    assert (await runner.start(first))["accepted"] is True
    first_pid = (await feed.status(first.uid, ModelStatus.RUNNING)).pid
    assert first_pid is not None
    keeper = os.getpgid(first_pid)
    assert keeper not in (os.getpid(), first_pid)

    with caplog.at_level(logging.ERROR, logger="runner.lifeline"):
        os.kill(keeper, signal.SIGKILL)
        await until(lambda: "lifeline keeper exited" in caplog.text, message="the keeper's death logged")
    assert gone(keeper) and not gone(first_pid)  # the server it covered keeps serving

    assert (await runner.start(second))["accepted"] is True
    second_pid = (await feed.status(second.uid, ModelStatus.RUNNING)).pid
    assert second_pid is not None
    new_keeper = os.getpgid(second_pid)
    assert new_keeper != keeper and not gone(new_keeper)
