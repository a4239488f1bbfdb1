"""The backend a build uses follows from the tools this machine has: real folders holding real executables
named nvcc, nvidia-smi, hipcc... on a PATH of the test's own, nothing of the build mocked."""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from protocol.llama_server import LlamaBackend
from runner.backend import Places, backend_build, choose_backend, find_toolchain
from runner.llama_build import SDIST_VERSION, plan_build
from tests.runner.standalone import ROOT
from tests.waiting import eventually


class Machine:
    """A made-up machine: a PATH folder, a library folder, an include folder and a /dev of its own."""

    def __init__(self, root: Path) -> None:
        self.bin = root / "bin"
        self.lib = root / "lib"
        self.include = root / "include"
        self.dev = root / "dev"
        for folder in (self.bin, self.lib, self.include, self.dev / "dri"):
            folder.mkdir(parents=True)

    def tool(self, name: str, prints: str = "") -> Path:
        """An executable on this machine's PATH (a shell script printing `prints`)."""
        path = self.bin / name
        path.write_text(f"#!/bin/sh\nprintf '{prints}'\n")
        path.chmod(0o755)
        return path

    def file(self, path: Path) -> Path:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"")
        return path

    @property
    def env(self) -> dict[str, str]:
        return {"PATH": str(self.bin)}

    @property
    def places(self) -> Places:
        return Places(lib_dirs=(self.lib,), include_dirs=(self.include,), render_nodes=self.dev / "dri",
                      rocm_device=self.dev / "kfd")

    def backend(self, system: str = "Linux", forced: LlamaBackend | None = None) -> LlamaBackend:
        return choose_backend(find_toolchain(self.env, system=system, places=self.places), forced).backend


@pytest.fixture
def machine(tmp_path: Path) -> Machine:
    return Machine(tmp_path)


def test_a_machine_without_gpu_tools_builds_for_the_cpu(machine: Machine) -> None:
    tools = find_toolchain(machine.env, system="Linux", places=machine.places)
    choice = choose_backend(tools)
    assert choice.backend is LlamaBackend.CPU
    assert "no GPU toolkit found" in choice.reason


def test_cuda_needs_the_compiler_and_a_driver(machine: Machine) -> None:
    nvcc = machine.tool("nvcc")
    assert machine.backend() is LlamaBackend.CPU  # this very machine's case: a CUDA toolkit, no GPU
    tools = find_toolchain(machine.env, system="Linux", places=machine.places)
    assert f"nvcc at {nvcc} but no NVIDIA driver" in choose_backend(tools).reason

    machine.tool("nvidia-smi")
    assert machine.backend() is LlamaBackend.CUDA


def test_a_driver_library_without_nvidia_smi_counts_too(machine: Machine) -> None:
    machine.tool("nvcc")
    machine.file(machine.lib / "libcuda.so.1")
    assert machine.backend() is LlamaBackend.CUDA


def test_a_cuda_toolkit_off_path_is_found_through_cuda_home(machine: Machine, tmp_path: Path) -> None:
    home = tmp_path / "cuda-13.0"
    (home / "bin").mkdir(parents=True)
    nvcc = home / "bin" / "nvcc"
    nvcc.write_text("#!/bin/sh\n")
    nvcc.chmod(0o755)
    machine.tool("nvidia-smi")
    tools = find_toolchain({**machine.env, "CUDA_HOME": str(home)}, system="Linux", places=machine.places)
    assert tools.nvcc == nvcc
    assert choose_backend(tools).backend is LlamaBackend.CUDA


def test_rocm_needs_hipcc_and_a_rocm_device(machine: Machine) -> None:
    machine.tool("hipcc")
    assert machine.backend() is LlamaBackend.CPU
    machine.file(machine.dev / "kfd")
    assert machine.backend() is LlamaBackend.ROCM


def test_vulkan_needs_glslc_its_sdk_and_a_gpu(machine: Machine) -> None:
    machine.tool("glslc")
    machine.file(machine.include / "vulkan" / "vulkan.h")
    machine.file(machine.lib / "libvulkan.so.1")
    tools = find_toolchain(machine.env, system="Linux", places=machine.places)
    assert "no GPU render node" in choose_backend(tools).reason  # else it would run on a software renderer
    machine.file(machine.dev / "dri" / "renderD128")
    assert machine.backend() is LlamaBackend.VULKAN


def test_cuda_wins_over_the_others_and_macos_has_metal(machine: Machine) -> None:
    for tool in ("nvcc", "nvidia-smi", "hipcc", "rocminfo", "glslc"):
        machine.tool(tool)
    assert machine.backend() is LlamaBackend.CUDA
    assert machine.backend(system="Darwin") is LlamaBackend.METAL


def test_the_setting_forces_a_backend(machine: Machine) -> None:
    machine.tool("nvcc")
    machine.tool("nvidia-smi")
    assert machine.backend(forced=LlamaBackend.CPU) is LlamaBackend.CPU
    assert machine.backend(forced=LlamaBackend.VULKAN) is LlamaBackend.VULKAN


def test_a_forced_backend_the_machine_lacks_says_what_is_missing(machine: Machine) -> None:
    machine.tool("nvcc")
    tools = find_toolchain(machine.env, system="Linux", places=machine.places)
    assert choose_backend(tools, LlamaBackend.CUDA).reason == (
        "cuda: set by --llama-backend / MODELDECK_LLAMA_BACKEND, but this machine has no NVIDIA driver (nvidia-smi "
        "or libcuda.so.1): a build for it will fail or not run here")
    machine.tool("nvidia-smi")
    tools = find_toolchain(machine.env, system="Linux", places=machine.places)
    assert choose_backend(tools, LlamaBackend.CUDA).reason == "cuda: set by --llama-backend / MODELDECK_LLAMA_BACKEND"


async def test_a_runner_started_with_the_setting_says_what_it_would_build_and_why(tmp_path: Path) -> None:
    """`python -m runner --llama-backend metal` on Linux, nothing to run and building off: the backend it
    reports (the About panel's) says the setting chose it and what is missing, before building anything."""
    env = {**os.environ, "PATH": "/usr/bin:/bin", "MODELDECK_CACHE": str(tmp_path / "cache")}
    env.pop("MODELDECK_LLAMA_SERVER", None)
    runner = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "runner", "--port", "0", "--token=t", "--no-build", "--llama-backend", "metal",
        "--work-dir", str(tmp_path / "work"), "--log-level", "WARNING", cwd=ROOT, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.DEVNULL)
    try:
        assert runner.stdout is not None
        url = (await asyncio.wait_for(runner.stdout.readline(), 20)).decode().split()[-1]
        async with aiohttp.ClientSession(headers={"Authorization": "Bearer t"}) as session:
            async def server() -> dict[str, Any]:
                async with session.get(f"{url}/v1/snapshot") as response:
                    return dict((await response.json())["server"])

            await eventually(lambda: _failed(server), within=20, message="the runner gave up on finding llama-server")
            info = await server()
    finally:
        runner.terminate()
        await runner.wait()
    assert info["backend"] == "metal"
    assert info["backend_reason"] == ("metal: set by --llama-backend / MODELDECK_LLAMA_BACKEND, but this machine has "
                                      "no macOS (Metal is macOS only): a build for it will fail or not run here")
    assert "building is off" in info["reason"]


async def _failed(server: Callable[[], Awaitable[dict[str, Any]]]) -> bool:
    return (await server())["phase"] == "failed"


def test_a_cuda_build_is_for_this_gpu_only_and_cached_apart(machine: Machine) -> None:
    machine.tool("nvcc")
    machine.tool("nvidia-smi", prints="9.0\\n9.0\\n")  # two H200s: one architecture, once
    tools = find_toolchain(machine.env, system="Linux", places=machine.places)
    build = backend_build(choose_backend(tools), tools)
    assert "-DGGML_CUDA=ON" in build.options
    assert "-DCMAKE_CUDA_ARCHITECTURES=90" in build.options
    assert f"-DCMAKE_CUDA_COMPILER={machine.bin / 'nvcc'}" in build.options
    plan = plan_build(env={}, tools=tools)
    assert plan.key == f"{SDIST_VERSION}-cuda-sm90"


def test_the_cpu_build_keeps_its_cache_folder(machine: Machine, monkeypatch: pytest.MonkeyPatch,
                                              tmp_path: Path) -> None:
    """Other tools and people rely on ~/.cache/modeldeck/llama-server/11434.0.0/llama-server."""
    monkeypatch.setenv("MODELDECK_CACHE", str(tmp_path / "cache"))
    plan = plan_build(env={}, tools=find_toolchain(machine.env, system="Linux", places=machine.places))
    assert plan.backend is LlamaBackend.CPU
    assert plan.binary == tmp_path / "cache" / "llama-server" / SDIST_VERSION / "llama-server"
    assert plan.backend_options.options == ()

