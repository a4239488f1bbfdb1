"""A stop belongs to the run it was asked of: a start accepted while that stop finishes is never reported
`stopped`, and the feed never calls a live llama-server stopped. The real supervisor and llama-server."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable
from dataclasses import dataclass, field

from protocol.config import ModelConfig
from protocol.messages import Event, ProcessState, StatusEvent, parse_event
from protocol.status import ModelStatus
from runner.events import Subscription
from tests.processes import gone
from tests.runner.conftest import RunnerClient
from tests.waiting import until


def statuses(events: list[Event], uid: str) -> list[ModelStatus]:
    return [e.process.status for e in events if isinstance(e, StatusEvent) and e.process.uid == uid]


async def until_status(feed: Subscription, uid: str, status: ModelStatus, seen: list[Event]) -> None:
    """Read the supervisor's own feed (in this loop: each event the moment it is published) up to `status`."""
    async with asyncio.timeout(10):
        while True:
            frame = await feed.next()
            assert frame is not None
            seen.append(event := parse_event(frame))
            if isinstance(event, StatusEvent) and event.process.uid == uid and event.process.status is status:
                return


async def test_a_start_accepted_as_the_stop_ends_is_not_reported_stopped(
        runner: RunnerClient, model_config: Callable[..., ModelConfig]) -> None:
    supervisor = runner.runner.supervisor
    config = model_config()
    feed = supervisor.hub.subscribe()
    seen: list[Event] = []
    assert supervisor.start(config) == (True, None)
    await until_status(feed, config.uid, ModelStatus.RUNNING, seen)
    assert supervisor.stop(config.uid) == (True, None)
    await until_status(feed, config.uid, ModelStatus.STOPPED, seen)

    # The stop's lifecycle has just said its last word. A start now, before anything else in the loop runs
    # (a quick second click), is accepted: the model is stopped.
    assert supervisor.start(config) == (True, None)
    since = len(seen)
    await until_status(feed, config.uid, ModelStatus.RUNNING, seen)

    assert statuses(seen[since:], config.uid) == [ModelStatus.STARTING, ModelStatus.STARTING,  # spawned: pid known
                                                   ModelStatus.RUNNING]
    state = supervisor.servers[config.uid].state
    assert state.status is ModelStatus.RUNNING and state.pid is not None and not gone(state.pid)


def tasks_of_runs() -> list[str]:
    return [name for task in asyncio.all_tasks()
            if (name := getattr(task.get_coro(), "__qualname__", "")).startswith("ManagedServer.")]


@dataclass
class FeedCheck:
    """Reads a feed and records every moment it told something a process contradicts."""

    problems: list[str] = field(default_factory=list)
    stopped: dict[str, bool] = field(default_factory=dict)  # uid -> the last word was stopped/error
    pids: dict[str, int] = field(default_factory=dict)  # uid -> the pid of its current run
    status_events: int = 0

    def see(self, state: ProcessState) -> None:
        self.status_events += 1
        uid, status = state.uid, state.status
        if status is ModelStatus.STARTING and state.pid is None:  # a new run (or restart) begins
            self.stopped[uid] = False
        elif status in (ModelStatus.STOPPED, ModelStatus.ERROR):
            if state.pid is not None:
                self.problems.append(f"{status.value} with a live pid {state.pid}")
            pid = self.pids.get(uid)
            if pid is not None and not gone(pid):
                self.problems.append(f"{status.value} while its llama-server {pid} still runs")
            self.stopped[uid] = True
        elif self.stopped.get(uid):
            self.problems.append(f"{status.value} (pid {state.pid}) after stopped, without a new start")
        if state.pid is not None:
            self.pids[uid] = state.pid


async def test_racing_commands_over_http_never_report_a_live_server_stopped(
        runner: RunnerClient, model_config: Callable[..., ModelConfig]) -> None:
    configs = [model_config(), model_config()]
    feed = await runner.feed()
    check = FeedCheck()

    async def read() -> None:
        while True:
            event = await feed.next(within=30)
            if isinstance(event, StatusEvent):
                check.see(event.process)

    async def client(seed: int, commands: int) -> None:
        chance = random.Random(seed)  # a test's dice
        for _ in range(commands):
            config = chance.choice(configs)
            match chance.choice(["start", "start", "stop", "stop", "restart"]):
                case "start":
                    await runner.start(config)
                case "stop":
                    await runner.stop(config.uid)
                case _:
                    await runner.post("/v1/restart", {"uid": config.uid})

    def settled() -> bool:
        return all(servers[c.uid].state.status not in (ModelStatus.STARTING, ModelStatus.STOPPING) for c in configs)

    servers = runner.runner.supervisor.servers
    reader = asyncio.create_task(read())
    try:
        await asyncio.gather(*(client(seed, 100) for seed in range(8)))
        await until(settled, within=10, message="every model running or stopped")
        for config in configs:  # a last stop each: then no server may be left
            await runner.stop(config.uid)
        await until(lambda: not any(servers[c.uid].busy for c in configs), within=10, message="every model stopped")
        # Nothing of a run goes on after it (such as a readiness poll of a port nobody serves any more).
        await until(lambda: not tasks_of_runs(), within=5, message=f"the runs' tasks ended (left: {tasks_of_runs()})")
    finally:
        reader.cancel()
        await asyncio.gather(reader, return_exceptions=True)
    assert check.status_events > 100  # the race was run, not skipped
    assert check.problems == []
    assert all(gone(pid) for pid in check.pids.values())
