"""Start, serve a completion, refuse a second start, restart, stop: with the real llama-server."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Callable

import aiohttp
import psutil
import pytest

from protocol.config import ModelConfig
from protocol.messages import SnapshotEvent, StatusEvent
from protocol.status import ModelStatus
from tests.processes import gone
from tests.runner.conftest import RunnerClient
from tests.waiting import until


def port_is_free(port: int) -> bool:
    """Nobody listens on it (connections of the old server may linger in TIME_WAIT: allowed)."""
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


async def test_start_serve_and_stop(runner: RunnerClient, model_config: Callable[..., ModelConfig]) -> None:
    feed = await runner.feed()
    assert isinstance(await feed.next(), SnapshotEvent)
    config = model_config()

    assert await runner.start(config) == {"accepted": True, "reason": None}
    await feed.status(config.uid, ModelStatus.STARTING)
    running = await feed.status(config.uid, ModelStatus.RUNNING)
    assert running.pid and running.port

    async with aiohttp.ClientSession() as session:
        async with session.get(f"http://127.0.0.1:{running.port}/health") as health:
            assert health.status == 200
        for method, path in (("POST", "/completion"), ("POST", "/v1/chat/completions"), ("GET", "/slots"),
                             ("GET", "/metrics"), ("GET", "/props")):  # nobody else on the host gets an answer
            async with session.request(method, f"http://127.0.0.1:{running.port}{path}", json={"prompt": "x"},
                                       headers={"Authorization": "Bearer guessed"}) as refused:
                assert refused.status == 401, path
        own_key = {"Authorization": f"Bearer {running.api_key}"}
        async with session.post(f"http://127.0.0.1:{running.port}/completion", headers=own_key,
                                json={"prompt": "hello", "n_predict": 4, "temperature": 0}) as answer:
            assert answer.status == 200
            assert (await answer.json())["timings"]["predicted_n"] == 4

    assert running.api_key and running.api_key not in " ".join(psutil.Process(running.pid).cmdline())

    second = await runner.start(config)
    assert second["accepted"] is False and "already running" in second["reason"]

    assert (await runner.stop(config.uid))["accepted"] is True
    await feed.status(config.uid, ModelStatus.STOPPING)
    stopped = await feed.status(config.uid, ModelStatus.STOPPED)
    assert stopped.pid is None
    assert gone(running.pid)
    await until(lambda: port_is_free(running.port or 0), within=2, message="port freed")

    again = await runner.stop(config.uid)
    assert again["accepted"] is False and "not running" in again["reason"]


async def test_restart_gives_a_new_process(runner: RunnerClient, model_config: Callable[..., ModelConfig]) -> None:
    feed = await runner.feed()
    config = model_config()
    await runner.start(config)
    first = await feed.status(config.uid, ModelStatus.RUNNING)

    status, body = await runner.post("/v1/restart", {"uid": config.uid})
    assert status == 200 and body["accepted"] is True
    await feed.status(config.uid, ModelStatus.STOPPED)
    second = await feed.status(config.uid, ModelStatus.RUNNING)
    assert second.pid != first.pid
    assert gone(first.pid or 0)


async def test_logs_are_kept_and_served(runner: RunnerClient, model_config: Callable[..., ModelConfig]) -> None:
    feed = await runner.feed()
    config = model_config()
    await runner.start(config)
    await feed.status(config.uid, ModelStatus.RUNNING)
    status, body = await runner.get(f"/v1/logs/{config.uid}?limit=5")
    assert status == 200 and body["uid"] == config.uid
    assert 0 < len(body["lines"]) <= 5
    status, body = await runner.get(f"/v1/logs/{'0' * 32}")
    assert status == 404


async def test_stop_while_starting(runner: RunnerClient, model_config: Callable[..., ModelConfig]) -> None:
    feed = await runner.feed()
    config = model_config()
    start, stop = await asyncio.gather(runner.start(config), runner.stop(config.uid))
    assert start["accepted"] and stop["accepted"]
    stopped = await feed.status(config.uid, ModelStatus.STOPPED)
    assert stopped.pid is None
    spawned = [e.process.pid for e in feed.seen if isinstance(e, StatusEvent) and e.process.pid]
    assert all(gone(pid) for pid in spawned)
    _, snapshot = await runner.get("/v1/snapshot")
    assert snapshot["processes"][0]["status"] == "stopped"


async def test_a_model_gets_its_own_environment_but_not_modeldecks_secrets(
        runner: RunnerClient, model_config: Callable[..., ModelConfig], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MODELDECK_RUNNER_TOKEN", "must-not-leak")
    feed = await runner.feed()
    config = model_config(env={"OMP_WAIT_POLICY": "PASSIVE"})
    assert (await runner.start(config))["accepted"] is True
    running = await feed.status(config.uid, ModelStatus.RUNNING)
    assert running.pid is not None
    environment = psutil.Process(running.pid).environ()
    assert environment["OMP_WAIT_POLICY"] == "PASSIVE"
    assert "MODELDECK_RUNNER_TOKEN" not in environment


async def test_forget_drops_a_stopped_model_and_refuses_a_running_one(
        runner: RunnerClient, model_config: Callable[..., ModelConfig]) -> None:
    feed = await runner.feed()
    config = model_config()
    assert (await runner.start(config))["accepted"] is True
    await feed.status(config.uid, ModelStatus.RUNNING)
    status, refused = await runner.post("/v1/forget", {"uid": config.uid})
    assert status == 409 and "stop it first" in refused["reason"]

    assert (await runner.stop(config.uid))["accepted"] is True
    await feed.status(config.uid, ModelStatus.STOPPED)
    status, forgotten = await runner.post("/v1/forget", {"uid": config.uid})
    assert status == 200 and forgotten["accepted"] is True
    _, snapshot = await runner.get("/v1/snapshot")
    assert config.uid not in {process["uid"] for process in snapshot["processes"]}
    assert (await runner.post("/v1/forget", {"uid": config.uid}))[0] == 200  # already gone: still fine
