"""Which llama-server binary to run, found or built in the background while everything else works.

Order: an explicit path (flag or setting) > MODELDECK_LLAMA_SERVER > `llama-server` on PATH >
the cached build for this machine's backend > build it now (minutes; only when allowed). An
explicit path that does not run is an error, not a reason to fall back silently to another binary.
"""

from __future__ import annotations

import asyncio
import logging
import os
import shutil
import subprocess
import sys
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

from protocol.llama_server import BuildStage, LlamaBackend, ServerPhase
from protocol.messages import LlamaServerInfo
from runner import llama_build
from runner.build_progress import BuildTracker
from runner.llama_build import BuildFailed, BuildPlan, plan_build

log = logging.getLogger(__name__)
ENV_VAR = "MODELDECK_LLAMA_SERVER"
BACKEND_ENV_VAR = "MODELDECK_LLAMA_BACKEND"
HOW_TO_POINT = "give --llama-server PATH, set MODELDECK_LLAMA_SERVER, or put llama-server on PATH"
BUILD_LINES_KEPT = 2000
TICK_S = 1.0  # a build's elapsed time and estimate are sent this often


class BinaryNotFound(RuntimeError):
    """No usable llama-server; the message says what was tried."""


@dataclass(frozen=True)
class Found:
    path: Path
    by: str  # how it was found, for the About panel: "PATH", "the cache", ...


def find_binary(explicit: str | Path | None = None, cached: Path | None = None) -> Found | None:
    """The binary to use without building; None if there is none. Raises if an explicit one is unusable."""
    for source, given in (("the --llama-server setting", explicit), (ENV_VAR, os.environ.get(ENV_VAR))):
        if given:
            path = Path(given).expanduser()
            if not (path.is_file() and os.access(path, os.X_OK)):
                raise BinaryNotFound(f"{path} (from {source}) is not an executable file")
            return Found(path, source)
    on_path = shutil.which("llama-server")
    if on_path:
        return Found(Path(on_path), "PATH")
    if cached is not None and llama_build.binary_works(cached):
        return Found(cached, "the cache")
    return None


def backend_from_env() -> LlamaBackend | None:
    """MODELDECK_LLAMA_BACKEND, for the entry points that have no flag of their own (tests, make)."""
    value = os.environ.get(BACKEND_ENV_VAR)
    if not value:
        return None
    try:
        return LlamaBackend(value.lower())
    except ValueError:
        raise BinaryNotFound(f"{BACKEND_ENV_VAR}={value!r} is none of "
                             f"{', '.join(b.value for b in LlamaBackend)}") from None


def resolve_binary(explicit: str | Path | None = None, *, allow_build: bool = True,
                   backend: LlamaBackend | None = None) -> Path:
    """find_binary, else build from source into the cache, printing the build's output (blocking, minutes)."""
    plan = plan_build(backend or backend_from_env())
    found = find_binary(explicit, plan.binary)
    if found is not None:
        return found.path
    if not allow_build:
        raise BinaryNotFound(f"no llama-server: {HOW_TO_POINT}, or run `python -m runner.llama_build`")
    print(f"no llama-server found: building one into {plan.binary} ({plan.choice.reason}); this takes minutes",
          file=sys.stderr, flush=True)
    try:
        return asyncio.run(llama_build.build(plan, on_stage=lambda stage: print(f"== {stage.value}", flush=True),
                                             on_line=lambda line: print(line, flush=True)))
    except BuildFailed as exc:
        raise BinaryNotFound(f"building llama-server failed: {exc}") from exc


def describe(binary: Path) -> tuple[str | None, list[str]]:
    """The binary's version and the devices it can use (`--version`, `--list-devices`), for the About panel."""
    def output(flag: str) -> list[str]:
        try:
            done = subprocess.run([str(binary), flag], capture_output=True, text=True, timeout=30, check=False)
        except (OSError, subprocess.TimeoutExpired):
            return []
        return [line.strip() for line in (done.stdout + done.stderr).splitlines() if line.strip()]

    about = [line for line in output("--version") if line.startswith(("version:", "built with"))]
    version = " · ".join(line.removeprefix("version:").strip() for line in about) or None
    listed = output("--list-devices")
    after = listed[listed.index("Available devices:") + 1:] if "Available devices:" in listed else []
    return version, [line for line in after if line != "(none)" and ":" in line]


Group = Callable[[], Awaitable[int]]
Watcher = Callable[[LlamaServerInfo], None]


class BinarySource:
    """The runner's llama-server: resolved once in the background (building it if allowed); every change to
    `info` goes to the watchers. Model starts wait for it; a start after a failure tries again."""

    def __init__(self, explicit: str | Path | None = None, *, allow_build: bool = True,
                 backend: LlamaBackend | None = None) -> None:
        self._explicit = explicit
        self._allow_build = allow_build
        self._forced = backend
        self._path: Path | None = None
        self._task: asyncio.Task[None] | None = None
        self._group: Group | None = None
        self._watchers: list[Watcher] = []
        self.info = LlamaServerInfo(phase=ServerPhase.LOOKING, backend=backend or LlamaBackend.CPU)
        self.build_lines: deque[str] = deque(maxlen=BUILD_LINES_KEPT)

    @property
    def known(self) -> Path | None:
        """The binary when already resolved (then `path()` returns it without waiting)."""
        return self._path

    def watch(self, watcher: Watcher) -> None:
        self._watchers.append(watcher)

    def begin(self, group: Group | None = None) -> None:
        """Start resolving now (at the runner's start, not at the first start command). A build's processes
        join `group` (the lifeline's), so they die with the runner even if it is killed."""
        self._group = group
        if self._task is None:
            self._task = asyncio.create_task(self._resolve(), name="llama-server binary")

    async def path(self) -> Path:
        if self._path is not None:
            return self._path
        if self._task is None or self._task.done():  # not begun, or the last try failed: try again
            self._task = asyncio.create_task(self._resolve(), name="llama-server binary")
        await asyncio.shield(self._task)  # a model's stop must not cancel a build other models wait for
        if self._path is None:
            raise BinaryNotFound(self.info.reason or "no llama-server")
        return self._path

    async def close(self) -> None:
        """Cancel a build in progress (its compilers with it)."""
        if self._task is not None and not self._task.done():
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)

    def _publish(self, **changes: object) -> None:
        self.info = self.info.model_copy(update=changes)
        for watcher in self._watchers:
            watcher(self.info)

    async def _resolve(self) -> None:
        self._publish(phase=ServerPhase.LOOKING, reason=None)
        try:
            plan = await asyncio.to_thread(plan_build, self._forced)
            log.info("a llama-server build here would be for %s", plan.choice.reason)
            self._publish(backend=plan.backend, backend_reason=plan.choice.reason)
            found = await asyncio.to_thread(find_binary, self._explicit, plan.binary)
            if found is None:
                if not self._allow_build:
                    raise BinaryNotFound(f"no llama-server found and building is off (--no-build): {HOW_TO_POINT}")
                found = Found(await self._build(plan), "a build here")
            version, devices = await asyncio.to_thread(describe, found.path)
        except (BinaryNotFound, OSError, ValueError) as exc:
            log.error("no llama-server: %s", exc)
            self._publish(phase=ServerPhase.FAILED, reason=str(exc))
            return
        self._path = found.path
        log.info("llama-server: %s (%s), %s", found.path, found.by, version)
        self._publish(phase=ServerPhase.READY, path=str(found.path), found_by=found.by, version=version,
                      devices=devices, reason=None)

    async def _build(self, plan: BuildPlan) -> Path:
        loop = asyncio.get_running_loop()
        tracker = BuildTracker(loop.time(), BuildStage.UNPACKING if plan.source else BuildStage.DOWNLOADING)
        self.build_lines.clear()

        def show() -> None:
            self._publish(build=tracker.progress(loop.time()))

        def on_stage(stage: BuildStage) -> None:
            tracker.enter(stage, loop.time())
            log.info("building llama-server: %s", stage.value)
            show()

        def on_line(line: str) -> None:
            self.build_lines.append(line)
            if tracker.line(line):
                show()

        async def tick() -> None:
            while True:
                await asyncio.sleep(TICK_S)  # a pacing timer: the elapsed time moves on
                show()

        log.warning("no llama-server found: building one into %s (%s); every page shows the progress",
                    plan.binary, plan.choice.reason)
        self._publish(phase=ServerPhase.BUILDING, build=tracker.progress(loop.time()))
        ticker = asyncio.create_task(tick())
        try:
            group = await self._group() if self._group is not None else None
            built = await llama_build.build(plan, on_stage=on_stage, on_line=on_line, group=group)
        except BuildFailed as exc:
            raise BinaryNotFound(f"building llama-server failed: {exc}") from exc
        finally:
            ticker.cancel()
            show()  # the final elapsed time
        log.info("built %s in %.0f s", built, tracker.progress(loop.time()).elapsed_s)
        return built
