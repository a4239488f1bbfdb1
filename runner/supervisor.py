"""The supervisor: every model the runner knows (by uid), commands on them, and the event feed.

Commands answer at once (accepted or refused with a reason); what happens next arrives as events.
Log lines are batched per model (every LOG_FLUSH_S) and flushed before that model's next status
event, so a client sees a server's last words before the status that reports its death.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Coroutine
from functools import partial
from pathlib import Path
from typing import Any

import aiohttp

from protocol.config import ModelConfig
from protocol.flags import FlagCatalog
from protocol.launch_check import launch_problem
from protocol.llama_server import ServerPhase
from protocol.messages import (
    HostEvent,
    HostSample,
    LlamaServerInfo,
    LogEvent,
    LogLine,
    MetricsEvent,
    MetricsSample,
    PolicyCommand,
    ProcessState,
    ServerEvent,
    SnapshotEvent,
    StatusEvent,
)
from protocol.status import ModelStatus
from runner.binary import BinaryNotFound, BinarySource
from runner.events import EventHub
from runner.flag_catalog import CatalogError, cached_catalog, read_catalog
from runner.host import HostSampler
from runner.lifeline import Lifeline
from runner.metrics import ServerProbe, scrape
from runner.process import ManagedServer, Timing

log = logging.getLogger(__name__)

LOG_FLUSH_S = 0.075
LOG_BATCH_LINES = 200  # 200 lines of at most 4000 characters stay far below MAX_FRAME_BYTES
LOG_PENDING_MAX = 5000  # a server printing faster than we flush loses its oldest unsent lines


class Supervisor:
    def __init__(self, binary: BinarySource, *, work_dir: Path, allowed_dirs: tuple[Path, ...] = (),
                 metrics_interval: float = 1.0, timing: Timing | None = None,
                 hub: EventHub | None = None, host: HostSampler | None = None) -> None:
        """`work_dir`: the runner's own folder; each llama-server runs in an empty work_dir/<uid>."""
        self.runner_id = uuid.uuid4().hex
        self.work_dir = work_dir.expanduser().resolve()
        self.hub = hub or EventHub()
        self.servers: dict[str, ManagedServer] = {}
        self.host_sample: HostSample | None = None
        self._binary = binary
        self._lifeline = Lifeline()
        self._allowed_dirs = allowed_dirs
        self._metrics_interval = metrics_interval
        self._timing = timing
        self._host = host or HostSampler()
        self._pending_logs: dict[str, list[LogLine]] = {}
        self._tasks: set[asyncio.Task[Any]] = set()
        self._loops: list[asyncio.Task[None]] = []
        self._probes: dict[str, ServerProbe] = {}
        self._session: aiohttp.ClientSession | None = None
        binary.watch(self._server_changed)

    @property
    def binary(self) -> BinarySource:
        return self._binary

    async def open(self) -> None:
        self.work_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        await self._lifeline.group()  # started now, not on the first start command's clock
        self._binary.begin(self._lifeline.group)  # found at once, or built while the runner already serves
        self._session = aiohttp.ClientSession()
        self._loops = [asyncio.create_task(self._flush_logs_loop(), name="runner log flush"),
                       asyncio.create_task(self._metrics_loop(), name="runner metrics")]

    async def stop_all(self) -> None:
        """Stop every server, concurrently; the runner goes on serving (its feed reports each `stopped`)."""
        await asyncio.gather(*(server.stop() for server in self.servers.values() if server.busy),
                             return_exceptions=True)

    async def close(self) -> None:
        """Stop every server and the background loops."""
        await self.stop_all()
        await self._binary.close()
        for task in [*self._loops, *self._tasks]:
            task.cancel()
        await asyncio.gather(*self._loops, *self._tasks, return_exceptions=True)
        await self._lifeline.close()
        self._flush_logs()
        if self._session is not None:
            await self._session.close()
        self._host.nvml.close()

    # ---- commands ---------------------------------------------------------------------------

    async def flags(self) -> FlagCatalog:
        """The catalog of the llama-server this runner runs. Raises BinaryNotFound while there is none yet
        (being looked for or built), CatalogError when its --help cannot be read."""
        binary = self._binary.known
        if binary is None:
            info = self._binary.info
            raise BinaryNotFound(info.reason if info.phase is ServerPhase.FAILED else info.waiting_reason)
        return await read_catalog(binary, cwd=self.work_dir)

    def launch_problem(self, config: ModelConfig) -> str | None:
        """Why this configuration may not start (a refused flag or variable), answered with the command and
        without a pause, so commands keep their order. Until the binary's flags are read (it is being looked
        for or built) the same check runs before the spawn, and a refusal becomes an `error`."""
        binary = self._binary.known
        catalog = cached_catalog(binary) if binary is not None else None
        problem = None if catalog is None else launch_problem(config, catalog, self._allowed_dirs)
        return None if problem is None else str(problem)

    def start(self, config: ModelConfig) -> tuple[bool, str | None]:
        server = self.servers.get(config.uid)
        if server is not None and server.busy:
            if server.state.status is ModelStatus.ERROR:  # waiting to restart: start now instead
                self._restart(server, config)
                return True, None
            return False, f"{server.state.name} is already {server.state.status.value}"
        if server is None:
            server = ManagedServer(config, binary=self._binary, lifeline=self._lifeline,
                                   allowed_dirs=self._allowed_dirs, work_root=self.work_dir,
                                   on_status=self._status, on_log=self._log, timing=self._timing)
            self.servers[config.uid] = server
        server.start(config)
        return True, None

    def stop(self, uid: str) -> tuple[bool, str | None]:
        server = self.servers.get(uid)
        if server is None:
            return False, "no such model on this runner"
        if not server.busy and server.state.status is ModelStatus.STOPPED:
            return False, f"{server.state.name} is not running"
        if server.state.status is ModelStatus.STOPPING:
            return False, f"{server.state.name} is already stopping"
        self._spawn(server.stop())
        return True, None

    def restart(self, uid: str) -> tuple[bool, str | None]:
        server = self.servers.get(uid)
        if server is None:
            return False, "no such model on this runner (start it with its configuration first)"
        if server.state.status is ModelStatus.STOPPING:
            return False, f"{server.state.name} is stopping"
        self._restart(server, None)
        return True, None

    def policy(self, command: PolicyCommand) -> tuple[bool, str | None]:
        """A running model's restart policy, for its next exit (the run in progress keeps its other settings)."""
        server = self.servers.get(command.uid)
        if server is None or not server.busy:
            return False, "that model is not running on this runner"
        server.config = server.config.model_copy(update={"restart_policy": command.restart_policy,
                                                         "restart_limit": command.restart_limit})
        return True, None

    def forget(self, uid: str) -> tuple[bool, str | None]:
        """Drop a model that is not running (its configuration was deleted): it leaves the snapshot.
        Forgetting a model this runner never knew is accepted too: either way it is not here now."""
        server = self.servers.get(uid)
        if server is None:
            return True, None
        if server.busy:
            return False, f"{server.state.name} is {server.state.status.value}: stop it first"
        del self.servers[uid]
        self._pending_logs.pop(uid, None)
        self._probes.pop(uid, None)
        return True, None

    def _restart(self, server: ManagedServer, config: ModelConfig | None) -> None:
        """Stop the current run now, then start anew, unless another command came meanwhile (the last one wins)."""
        stopped = server.stop()
        self._spawn(self._start_after(server, stopped, server.commands, config))

    @staticmethod
    async def _start_after(server: ManagedServer, stopped: Coroutine[Any, Any, None], asked: int,
                           config: ModelConfig | None) -> None:
        await stopped
        if server.commands == asked:
            server.start(config)

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # ---- events -----------------------------------------------------------------------------

    def snapshot(self) -> SnapshotEvent:
        """Every process as it is now; its seq is the last event it already reflects."""
        self._flush_logs()
        return SnapshotEvent(seq=self.hub.seq, runner_id=self.runner_id,
                             processes=[server.state for server in self.servers.values()], host=self.host_sample,
                             server=self._binary.info)

    def _server_changed(self, info: LlamaServerInfo) -> None:
        """Everyone sees the binary's news; a model waiting for it says how far the build is. A binary that
        is ready has its flags read at once, so start commands are checked against them from then on."""
        self.hub.publish(lambda seq: ServerEvent(seq=seq, info=info))
        for server in self.servers.values():
            server.waiting(info.waiting_reason)
        if info.phase is ServerPhase.READY and info.path:
            self._spawn(self._read_flags(Path(info.path)))

    async def _read_flags(self, binary: Path) -> None:
        try:
            await read_catalog(binary, cwd=self.work_dir)
        except CatalogError as exc:
            log.error("cannot read the flags of %s: %s; starts will be refused", binary, exc)

    def _status(self, state: ProcessState) -> None:
        self._flush_logs(state.uid)
        self.hub.publish(lambda seq: StatusEvent(seq=seq, process=state))

    def _log(self, uid: str, line: LogLine) -> None:
        pending = self._pending_logs.setdefault(uid, [])
        pending.append(line)
        if len(pending) > LOG_PENDING_MAX:
            del pending[: len(pending) - LOG_PENDING_MAX]

    def _flush_logs(self, uid: str | None = None) -> None:
        uids = [uid] if uid is not None else list(self._pending_logs)
        for key in uids:
            lines = self._pending_logs.pop(key, None) or []
            for start in range(0, len(lines), LOG_BATCH_LINES):
                self.hub.publish(partial(_log_event, key, lines[start:start + LOG_BATCH_LINES]))

    async def _flush_logs_loop(self) -> None:
        while True:
            await asyncio.sleep(LOG_FLUSH_S)  # a pacing timer, not synchronisation
            self._flush_logs()

    async def _metrics_loop(self) -> None:
        while True:
            try:
                await self._sample_all()
            except Exception:  # a bad sample must never end the feed
                log.exception("sampling metrics failed")
            await asyncio.sleep(self._metrics_interval)

    async def _sample_all(self) -> None:
        host = await asyncio.to_thread(self._host.sample)
        vram = await asyncio.to_thread(self._host.nvml.vram_by_pid) if host.gpus else {}
        running = [s for s in self.servers.values() if s.state.status is ModelStatus.RUNNING and s.state.port]
        for uid in set(self._probes) - {s.config.uid for s in running}:
            del self._probes[uid]
        samples = await asyncio.gather(*(self._scrape(server, vram) for server in running))
        for server, sample in zip(running, samples, strict=True):
            if server.state.status is ModelStatus.RUNNING:  # it may have stopped meanwhile
                server.set_metrics(sample)
                self.hub.publish(partial(_metrics_event, server.config.uid, sample))
        self.host_sample = host
        self.hub.publish(lambda seq: HostEvent(seq=seq, sample=host))

    async def _scrape(self, server: ManagedServer, vram: dict[int, int]) -> MetricsSample:
        pid, port = server.state.pid, server.state.port
        assert self._session is not None and port is not None
        probe = self._probes.get(server.config.uid)
        if pid is not None and (probe is None or probe.pid != pid):
            probe = self._probes[server.config.uid] = ServerProbe(pid)
        return await scrape(self._session, port, probe, vram.get(pid) if pid is not None else None,
                            limit_s=min(0.8, self._metrics_interval * 0.8), api_key=server.state.api_key)


def _log_event(uid: str, lines: list[LogLine], seq: int) -> LogEvent:
    return LogEvent(seq=seq, uid=uid, lines=lines)


def _metrics_event(uid: str, sample: MetricsSample, seq: int) -> MetricsEvent:
    return MetricsEvent(seq=seq, uid=uid, sample=sample)
