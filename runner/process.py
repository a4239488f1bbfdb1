"""One supervised llama-server: spawn, readiness, output capture, stop, unexpected exit and restarts.

Everything about one model's lifecycle happens in a single task (`_run`), so state changes are
strictly ordered; commands only set flags and events that the task reacts to. Changes are
reported through two callbacks (status, log line) that the supervisor turns into events.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import secrets
import shutil
import signal
import socket
from collections.abc import Callable, Collection, Coroutine, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, NamedTuple

from protocol.config import ModelConfig, RestartPolicy
from protocol.flags import FlagCatalog
from protocol.launch_check import LaunchRefused, check_launch
from protocol.messages import LAST_LINES, LogLine, MetricsSample, PendingRestart, Placement, ProcessState
from protocol.model_files import ModelFileError, resolve_model_file
from protocol.status import ModelStatus
from runner.binary import BinarySource
from runner.flag_catalog import read_catalog
from runner.lifeline import Lifeline
from runner.logs import LogBuffer, duration, exit_line, exit_reason, how_it_ended, own_line, parse_line, read_placement
from runner.spawn import Child, spawn

log = logging.getLogger(__name__)

# While starting, /health is checked after each output line and at least every elapsed/40 seconds,
# bounded to 1-25 ms: a 20 ms start is seen within 1 ms, a 2 s load costs 80 requests, not 2000.
HEALTH_POLL_MIN_S = 0.001
HEALTH_POLL_MAX_S = 0.025
STOP_TIMEOUT_S = 10.0
STABLE_AFTER_S = 60.0  # running this long resets the crash-loop counter
READ_CHUNK = 65536
# Once a server runs, its output is read at most this often: a request makes llama-server print about ten lines, a
# write each, and a wake-up for each took CPU that the server wants on a small machine (docs/gateway.md). While it
# starts, every line is read at once (the next may say it is ready); an exit cuts the pause short.
OUTPUT_PACING_S = 0.02
# llama-server reads its --api-key from here: unlike an argument, the environment is not visible to other users.
API_KEY_VARIABLE = "LLAMA_API_KEY"
VERBOSITY_FLAGS = frozenset({"--verbosity", "--verbose"})  # by their first long spelling, as the catalog names them


@dataclass(frozen=True)
class Timing:
    """Knobs tests turn down: restart backoff (base doubling up to cap) and stopping (see _terminate)."""

    backoff_base_s: float = 0.5
    backoff_cap_s: float = 30.0
    term_again_s: float = 2.0
    stop_timeout_s: float = STOP_TIMEOUT_S
    stable_after_s: float = STABLE_AFTER_S


class Refused(Exception):
    """The server cannot be started at all (file outside the allowed folders, no binary): no retry helps."""


@dataclass(frozen=True)
class Exit:
    returncode: int | None
    reason: str
    last_lines: list[str]


def free_port() -> int:
    """A loopback port nobody listens on right now (the OS picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def health_ok(port: int, limit_s: float = 1.0) -> bool:
    """True when GET /health answers 200. A raw request: sub-millisecond, no session needed."""
    writer: asyncio.StreamWriter | None = None
    try:
        async with asyncio.timeout(limit_s):
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.write(b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
            status_line = await reader.readline()
            return status_line.split(b" ", 2)[1:2] == [b"200"]
    except (OSError, TimeoutError, IndexError):
        return False
    finally:
        if writer is not None:
            writer.close()


# From the runner's own environment, besides the allowlisted variables: where a CUDA or ROCm build that
# is not static finds its libraries. The operator set it when starting ModelDeck; no browser can.
INHERITED = ("LD_LIBRARY_PATH",)


def server_environment(allowed: Mapping[str, str], config_env: Mapping[str, str], work_dir: Path) -> dict[str, str]:
    """llama-server's whole environment: the allowlisted variables (the runner's, then the configuration's
    over them), the loader path the operator set, and HOME and TMPDIR in its own empty folder. Nothing
    else of the runner's (its token, the dashboard's settings) and no LLAMA_ARG_* steering its flags."""
    env = {key: os.environ[key] for key in (*allowed, *INHERITED) if key in os.environ}
    env.update(config_env)
    env.update(HOME=str(work_dir), TMPDIR=str(work_dir))
    return env


def fresh_folder(path: Path) -> Path:
    """An empty folder only the runner's user can enter (whatever a previous run left there is removed);
    it is removed again when the server has exited."""
    shutil.rmtree(path, ignore_errors=True)
    path.mkdir(mode=0o700, parents=True)
    return path


def _sets(extra_args: list[str], catalog: FlagCatalog, canonical: Collection[str]) -> bool:
    """Whether the extra arguments set one of these flags (by their first long spelling), in any spelling."""
    return any((spec := catalog.find(arg)) is not None and spec.canonical in canonical
               for arg in extra_args)


StatusCallback = Callable[[ProcessState], None]
LogCallback = Callable[[str, LogLine], None]


class Command(NamedTuple):
    args: list[str]
    env: dict[str, str]
    group: int  # the process group to join (the keeper's)
    cwd: Path


class ManagedServer:
    """The runner's handle on one model configuration (by uid) and, while it runs, its process."""

    def __init__(self, config: ModelConfig, *, binary: BinarySource, lifeline: Lifeline,
                 allowed_dirs: tuple[Path, ...], work_root: Path, on_status: StatusCallback, on_log: LogCallback,
                 timing: Timing | None = None, log_lines: int = 2000) -> None:
        self.config = config
        self._binary = binary
        self._lifeline = lifeline
        self._allowed_dirs = allowed_dirs
        self._work_root = work_root  # the runner's work folder; this server's own is work_root/uid
        self._on_status = on_status
        self._on_log = on_log
        self._timing = timing or Timing()
        self.logs = LogBuffer(log_lines)
        self.state = ProcessState(uid=config.uid, name=config.name, status=ModelStatus.STOPPED)
        self.proc: Child | None = None
        self._task: asyncio.Task[None] | None = None
        self._stop = asyncio.Event()
        self.commands = 0  # starts and stops asked so far: a deferred start yields to any command after it
        self._output_seen = asyncio.Event()
        self._awaiting_binary = False
        self._placement: Placement | None = None  # read from the log while the model loads

    # ---- commands ---------------------------------------------------------------------------

    @property
    def busy(self) -> bool:
        """A lifecycle task is running (starting, running, stopping, or waiting to restart)."""
        return self._task is not None and not self._task.done()

    def start(self, config: ModelConfig | None = None) -> None:
        """Begin the lifecycle; the caller has checked that none is running."""
        if self.busy:
            raise RuntimeError("already running")
        if config is not None:
            self.config = config
        self.commands += 1
        self._stop = asyncio.Event()
        # The task first, so its first step (the spawn) runs before the event fan-out this status wakes.
        self._task = asyncio.create_task(self._run(), name=f"llama-server {self.config.name}")
        self._set(status=ModelStatus.STARTING, name=self.config.name, restarts=0, exit_code=None, reason=None,
                  last_lines=[], pid=None, port=None, started_at=None, metrics=None, placement=None)

    def stop(self) -> Coroutine[Any, Any, None]:
        """Stop the server (SIGTERM, then SIGKILL after the timeout) or cancel a pending restart: asked now,
        of the run in progress; the coroutine returned waits until that run has ended.

        The stop belongs to that run: a start accepted after the run ended, before the waiting side
        resumes, is a newer run, and nothing of this stop reports it stopped."""
        self.commands += 1
        run = self._task
        self._stop.set()
        return self._ended(run)

    async def _ended(self, run: asyncio.Task[None] | None) -> None:
        if run is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.shield(run)
        if run is self._task and self.state.status is not ModelStatus.STOPPED:
            self._set(status=ModelStatus.STOPPED, pid=None, metrics=None)  # an error cleared, or a run cancelled

    def waiting(self, reason: str) -> None:
        """While this start waits for the binary (being built), say why; nothing otherwise."""
        if self._awaiting_binary and self.state.reason != reason:
            self._set(reason=reason)

    def set_metrics(self, sample: MetricsSample) -> None:
        self.state = self.state.model_copy(update={"metrics": sample})

    # ---- lifecycle --------------------------------------------------------------------------

    async def _run(self) -> None:
        failures = 0
        try:
            while not self._stop.is_set():
                began = asyncio.get_running_loop().time()
                ended = await self._run_once()
                if ended is None:  # stopped on request
                    break
                if asyncio.get_running_loop().time() - began >= self._timing.stable_after_s:
                    failures = 0
                failures += 1
                if not self._restart_wanted(ended, failures):
                    final = ModelStatus.STOPPED if ended.returncode == 0 else ModelStatus.ERROR
                    self._set(status=final, pid=None, exit_code=ended.returncode, reason=ended.reason,
                              last_lines=ended.last_lines, metrics=None)
                    return
                delay = min(self._timing.backoff_base_s * 2 ** (failures - 1), self._timing.backoff_cap_s)
                self._set(status=ModelStatus.ERROR, pid=None, exit_code=ended.returncode, reason=ended.reason,
                          last_lines=ended.last_lines, metrics=None,
                          restart=PendingRestart(delay_s=delay, attempt=failures, limit=self.config.restart_limit))
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(delay):  # backoff, cut short by stop (timeout: see _wait_ready)
                        await self._stop.wait()
                if self._stop.is_set():
                    break
                self._set(status=ModelStatus.STARTING, restarts=self.state.restarts + 1, reason=None,
                          exit_code=None, last_lines=[])
            self._set(status=ModelStatus.STOPPED, pid=None, metrics=None)
        except Refused as exc:
            self._set(status=ModelStatus.ERROR, pid=None, port=None, reason=str(exc), exit_code=None, last_lines=[])
        except Exception as exc:  # never leave a model in a made-up state: say what broke
            log.exception("supervising %s failed", self.config.name)
            self._set(status=ModelStatus.ERROR, pid=None, reason=f"runner error: {exc}", metrics=None)

    def _cpu_only(self) -> Placement | None:
        """Where a model runs when its log did not say: on the CPU for a binary without GPU devices (such a build
        logs no offloading); unknown otherwise (someone turned the log down)."""
        return None if self._binary.info.devices else Placement()

    def _restart_wanted(self, ended: Exit, failures: int) -> bool:
        if ended.returncode == 0 or self.config.restart_policy is not RestartPolicy.ON_FAILURE:
            return False
        return failures <= self.config.restart_limit

    async def _run_once(self) -> Exit | None:
        """One process from spawn to exit; None when it ended because stop was asked."""
        try:
            prepared = await self._prepare()
        except (ModelFileError, LaunchRefused, OSError, RuntimeError) as exc:
            raise Refused(str(exc)) from exc
        if prepared is None:
            return None
        args = prepared.args
        port = int(args[args.index("--port") + 1])
        try:
            proc = await spawn(self._lifeline.tied(args), group=prepared.group, env=prepared.env, cwd=prepared.cwd,
                               capture_output=True)
        except OSError as exc:
            return Exit(None, f"cannot start llama-server: {exc}", [])
        self.proc = proc
        self._placement = None
        spawned = asyncio.get_running_loop().time()
        self._record(own_line(f"started pid {proc.pid}: {' '.join(args)}"))
        self._set(pid=proc.pid, port=port, api_key=prepared.env[API_KEY_VARIABLE], started_at=datetime.now(UTC),
                  reason=None)
        assert proc.output is not None
        exited = asyncio.create_task(proc.wait())
        reader = asyncio.create_task(self._read_output(proc.output, exited))
        stop_asked = asyncio.create_task(self._stop.wait())
        ready = asyncio.create_task(self._wait_ready(port))
        try:
            done, _ = await asyncio.wait({exited, stop_asked, ready}, return_when=asyncio.FIRST_COMPLETED)
            if ready in done and exited not in done and not self._stop.is_set():
                self._set(status=ModelStatus.RUNNING, placement=self._placement or self._cpu_only())
                await asyncio.wait({exited, stop_asked}, return_when=asyncio.FIRST_COMPLETED)
            stopped_by = await self._terminate(proc, exited) if not exited.done() else None  # stop asked
            await self._drain(reader)
            if stopped_by is not None:
                self._record(stopped_by)
            if self._stop.is_set():
                return None
            code = proc.returncode
            lines = self.logs.tail(LAST_LINES)
            ended = Exit(code, exit_reason(lines, code), [line.text for line in lines])
            self._record(exit_line(code, asyncio.get_running_loop().time() - spawned))
            return ended
        finally:
            for task in (ready, stop_asked, exited, reader):
                task.cancel()
            if proc.returncode is None:  # cancelled from outside: never leave it behind
                proc.send_signal(signal.SIGKILL)
            self.proc = None
            shutil.rmtree(prepared.cwd, ignore_errors=True)  # its own folder goes with it

    async def _prepare(self) -> Command | None:
        """The command to spawn, or None when a stop came first.

        Usually the binary is known and the keeper alive: then the command is built at once, without a
        task switch, so the spawn happens in the first step of the lifecycle task. Otherwise it is raced
        against a stop, because resolving the binary may mean building it (minutes)."""
        if self._binary.known is not None and self._lifeline.alive:
            return await self._command()  # nothing in it waits now
        command = asyncio.create_task(self._command())
        stop_asked = asyncio.create_task(self._stop.wait())
        if self._binary.known is None:
            self._awaiting_binary = True
            self.waiting(self._binary.info.waiting_reason)
        try:
            await asyncio.wait({command, stop_asked}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            self._awaiting_binary = False
            stop_asked.cancel()
        if self._stop.is_set():
            command.cancel()
            return None
        return command.result()

    async def _command(self) -> Command:
        """Checked again here whatever the start command's check said: a restart or a rebuilt binary too."""
        config = self.config
        if self._allowed_dirs:
            real = resolve_model_file(config.model_path, self._allowed_dirs)
            config = config.model_copy(update={"model_path": str(real)})
        binary = await self._binary.path()
        catalog = await read_catalog(binary, cwd=self._work_root)  # cached: no wait after the first start
        check_launch(config, catalog, self._allowed_dirs)
        work_dir = fresh_folder(self._work_root / config.uid)
        port = config.port or free_port()
        # What answers say in "model", rather than the file's path (unless the extra arguments name one).
        alias = [] if _sets(config.extra_args, catalog, {"--alias"}) else ["--alias", config.name]
        args = [str(binary), *alias, *config.server_args(), "--host", "127.0.0.1", "--port", str(port), "--metrics"]
        if self._binary.info.devices and not _sets(config.extra_args, catalog, VERBOSITY_FLAGS):
            args += ["--log-verbosity", "4"]  # a GPU build says where the layers went only at this level
        env = server_environment(catalog.env, config.env, work_dir)
        # After the allowlist's variables: the server answers only to the fresh key of this spawn, which no
        # configuration can set or see (LLAMA_API_KEY is not on the allowlist).
        env[API_KEY_VARIABLE] = secrets.token_urlsafe(32)
        return Command(args, env, await self._lifeline.group(), work_dir)

    async def _wait_ready(self, port: int) -> None:
        """Return once /health says 200 (polled, and checked right after each output line)."""
        loop = asyncio.get_running_loop()
        began = loop.time()
        while True:
            self._output_seen.clear()  # before the check: a line printed while it is on its way asks for another
            if await health_ok(port):
                return
            pause = min(max((loop.time() - began) / 40, HEALTH_POLL_MIN_S), HEALTH_POLL_MAX_S)
            # asyncio.timeout, not wait_for: on Python 3.11 wait_for can swallow the cancel this task gets when
            # the run ends (CPython gh-86296), and the loop would go on polling a port nobody serves.
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(pause):
                    await self._output_seen.wait()

    async def _read_output(self, stream: asyncio.StreamReader, exited: asyncio.Task[int]) -> None:
        pending = b""
        while chunk := await stream.read(READ_CHUNK):
            pending += chunk
            *complete, pending = pending.split(b"\n")
            if len(pending) > READ_CHUNK:  # a huge line without newline: cut it
                complete.append(pending)
                pending = b""
            for raw in complete:
                self._line(raw)
            if self.state.status is ModelStatus.RUNNING:
                await asyncio.wait({exited}, timeout=OUTPUT_PACING_S)  # pacing: the lines of a request gather
        if pending:
            self._line(pending)

    def _line(self, raw: bytes) -> None:
        line = parse_line(raw.decode("utf-8", "replace"))
        if self.state.status is ModelStatus.STARTING:
            self._placement = read_placement(line.text, self._placement)
        self._record(line)
        self._output_seen.set()

    def _record(self, line: LogLine) -> None:
        self.logs.append(line)
        self._on_log(self.config.uid, line)

    async def _terminate(self, proc: Child, exited: asyncio.Task[int]) -> LogLine:
        """SIGTERM, again after `term_again_s`, SIGKILL at the stop timeout; the log line that says how it went.

        Why twice: llama-server drops a SIGTERM that lands between installing its handler and starting
        its loop (just after /health turns 200), and exits at once on a second one."""
        self._set(status=ModelStatus.STOPPING)
        timing = self._timing
        began = asyncio.get_running_loop().time()

        def stopped(how: str) -> LogLine:
            took = duration(asyncio.get_running_loop().time() - began)
            return own_line(f"stopped ({how}) after {took}, {how_it_ended(proc.returncode)}",
                            "I" if how == "SIGTERM" else "W")

        proc.send_signal(signal.SIGTERM)  # the server alone: its process group is the lifeline's
        if await self._ended_within(exited, timing.term_again_s):
            return stopped("SIGTERM")
        self._record(own_line(f"still up {duration(timing.term_again_s)} after SIGTERM: sending another", "W"))
        log.info("%s is still up %.1f s after SIGTERM; sending another", self.config.name, timing.term_again_s)
        proc.send_signal(signal.SIGTERM)
        if await self._ended_within(exited, timing.stop_timeout_s - timing.term_again_s):
            return stopped("a second SIGTERM")
        log.warning("%s ignored SIGTERM for %.0f s; killing it", self.config.name, timing.stop_timeout_s)
        proc.send_signal(signal.SIGKILL)
        await exited
        return stopped(f"SIGKILL: SIGTERM was ignored for {duration(timing.stop_timeout_s)}")

    @staticmethod
    async def _ended_within(exited: asyncio.Task[int], seconds: float) -> bool:
        try:
            await asyncio.wait_for(asyncio.shield(exited), seconds)
        except TimeoutError:
            return False
        return True

    @staticmethod
    async def _drain(reader: asyncio.Task[None]) -> None:
        """Let the reader take the last lines; a grandchild holding the pipe must not block us."""
        with contextlib.suppress(TimeoutError, asyncio.CancelledError):
            await asyncio.wait_for(asyncio.shield(reader), 0.5)

    def _set(self, **changes: object) -> None:
        if "status" in changes:  # a pending restart belongs to the error it follows, and to nothing after it
            changes.setdefault("restart", None)
        self.state = self.state.model_copy(update=changes)
        self._on_status(self.state)
