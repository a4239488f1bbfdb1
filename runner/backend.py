"""Which accelerator a llama-server build uses: a pure function of the tools this machine has.

A compiler alone is not enough: a CUDA toolkit without an NVIDIA driver (a build box, a container
without the GPU, this project's CI) gives a binary that cannot start here (it needs libcuda at run
time), so CUDA needs nvcc *and* a driver; ROCm needs hipcc and a ROCm device; Vulkan needs glslc,
its headers and loader, and a GPU render node (else it would run on a software rasteriser). macOS
always has Metal. The person can force any backend (`--llama-backend`).
"""

from __future__ import annotations

import os
import platform
import shutil
import subprocess
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from protocol.llama_server import LlamaBackend


@dataclass(frozen=True)
class Places:
    """Where tools are looked for besides PATH (tests pass their own folders)."""

    bin_dirs: tuple[Path, ...] = ()  # toolkits that are often not on PATH
    lib_dirs: tuple[Path, ...] = ()  # driver libraries (libcuda.so.1, libvulkan.so.1)
    include_dirs: tuple[Path, ...] = ()  # the Vulkan headers
    render_nodes: Path | None = None  # /dev/dri: one renderD* node per GPU with a kernel driver
    rocm_device: Path | None = None  # /dev/kfd: the ROCm kernel driver


STANDARD_PLACES = Places(
    bin_dirs=(Path("/usr/local/cuda/bin"), Path("/opt/cuda/bin"), Path("/opt/rocm/bin")),
    lib_dirs=(Path("/usr/lib/x86_64-linux-gnu"), Path("/usr/lib/aarch64-linux-gnu"), Path("/usr/lib64"),
              Path("/usr/lib"), Path("/usr/lib/wsl/lib"), Path("/usr/local/cuda/compat")),
    include_dirs=(Path("/usr/include"), Path("/usr/local/include")),
    render_nodes=Path("/dev/dri"), rocm_device=Path("/dev/kfd"))


@dataclass(frozen=True)
class Toolchain:
    """What was found (None: not found); each path says where, for the log and the About panel."""

    system: str  # platform.system(): "Linux", "Darwin", ...
    nvcc: Path | None = None
    nvidia_driver: Path | None = None  # nvidia-smi or libcuda.so.1
    nvidia_smi: Path | None = None
    hipcc: Path | None = None
    rocm_device: Path | None = None  # rocminfo, or the /dev/kfd device
    glslc: Path | None = None
    vulkan_headers: Path | None = None
    vulkan_loader: Path | None = None
    gpu_render_node: Path | None = None


@dataclass(frozen=True)
class BackendChoice:
    backend: LlamaBackend
    reason: str
    notes: tuple[str, ...] = field(default=())  # near misses: a toolkit found without what it needs to run


def _which(name: str, path: str, extra: Iterable[Path]) -> Path | None:
    found = shutil.which(name, path=os.pathsep.join([path, *map(str, extra)]))
    return Path(found) if found else None


def _first_file(names: Sequence[str], dirs: Iterable[Path]) -> Path | None:
    for folder in dirs:
        for name in names:
            if (folder / name).exists():
                return folder / name
    return None


def find_toolchain(env: Mapping[str, str] | None = None, *, system: str | None = None,
                   places: Places = STANDARD_PLACES) -> Toolchain:
    """Look for the compilers, drivers and devices each backend needs: on PATH, in $CUDA_HOME / $CUDA_PATH /
    $ROCM_PATH / $VULKAN_SDK, and in `places`. Only looks; runs nothing."""
    env = os.environ if env is None else env
    path = env.get("PATH", "")
    homes = [Path(env[key]) for key in ("CUDA_HOME", "CUDA_PATH", "ROCM_PATH", "VULKAN_SDK") if env.get(key)]
    bins = [*(home / "bin" for home in homes), *places.bin_dirs]
    libs = [*(Path(p) for p in env.get("LD_LIBRARY_PATH", "").split(os.pathsep) if p), *places.lib_dirs]
    includes = [*(home / "include" for home in homes), *places.include_dirs]
    nvidia_smi = _which("nvidia-smi", path, bins)
    render = None
    if places.render_nodes is not None and places.render_nodes.is_dir():
        render = next(iter(sorted(places.render_nodes.glob("renderD*"))), None)
    kfd = places.rocm_device if places.rocm_device is not None and places.rocm_device.exists() else None
    return Toolchain(
        system=system or platform.system(),
        nvcc=_which("nvcc", path, bins),
        nvidia_driver=nvidia_smi or _first_file(("libcuda.so.1", "libcuda.so"), libs),
        nvidia_smi=nvidia_smi,
        hipcc=_which("hipcc", path, bins),
        rocm_device=_which("rocminfo", path, bins) or kfd,
        glslc=_which("glslc", path, bins),
        vulkan_headers=_first_file(("vulkan/vulkan.h",), includes),
        vulkan_loader=_first_file(("libvulkan.so.1", "libvulkan.so"), libs),
        gpu_render_node=render)


def lacking(backend: LlamaBackend, tools: Toolchain) -> list[str]:
    """What this machine lacks to build for `backend` and run the result (empty: nothing)."""
    needs: dict[LlamaBackend, tuple[tuple[str, object], ...]] = {
        LlamaBackend.CUDA: (("nvcc (the CUDA toolkit)", tools.nvcc),
                            ("NVIDIA driver (nvidia-smi or libcuda.so.1)", tools.nvidia_driver)),
        LlamaBackend.ROCM: (("hipcc", tools.hipcc), ("ROCm device (rocminfo or /dev/kfd)", tools.rocm_device)),
        LlamaBackend.VULKAN: (("glslc", tools.glslc), ("Vulkan headers", tools.vulkan_headers),
                              ("Vulkan loader", tools.vulkan_loader),
                              ("GPU render node in /dev/dri", tools.gpu_render_node)),
        LlamaBackend.METAL: (("macOS (Metal is macOS only)", tools.system == "Darwin" or None),),
    }
    return [what for what, have in needs.get(backend, ()) if have is None]


def choose_backend(tools: Toolchain, forced: LlamaBackend | None = None) -> BackendChoice:
    """The backend to build for: forced by the setting (saying what this machine lacks for it), else the first
    accelerator this machine can run."""
    if forced is not None:
        reason = f"{forced.value}: set by --llama-backend / MODELDECK_LLAMA_BACKEND"
        missing = lacking(forced, tools)
        if missing:
            reason += f", but this machine has no {', no '.join(missing)}: a build for it will fail or not run here"
        return BackendChoice(forced, reason, tuple(missing))
    if tools.system == "Darwin":
        return BackendChoice(LlamaBackend.METAL, "metal: macOS")
    notes: list[str] = []
    if tools.nvcc is not None:
        if tools.nvidia_driver is not None:
            return BackendChoice(LlamaBackend.CUDA, f"cuda: nvcc at {tools.nvcc} and an NVIDIA driver "
                                                    f"({tools.nvidia_driver})")
        notes.append(f"nvcc at {tools.nvcc} but no NVIDIA driver (no nvidia-smi, no libcuda.so.1)")
    if tools.hipcc is not None:
        if tools.rocm_device is not None:
            return BackendChoice(LlamaBackend.ROCM, f"rocm: hipcc at {tools.hipcc} and {tools.rocm_device}")
        notes.append(f"hipcc at {tools.hipcc} but no ROCm device (no rocminfo, no /dev/kfd)")
    if tools.glslc is not None:
        missing = lacking(LlamaBackend.VULKAN, tools)
        if not missing:
            return BackendChoice(LlamaBackend.VULKAN, f"vulkan: glslc at {tools.glslc}, the Vulkan SDK and "
                                                      f"{tools.gpu_render_node}")
        notes.append(f"glslc at {tools.glslc} but no {', no '.join(missing)}")
    why = "; ".join(notes) if notes else "no GPU toolkit found (nvcc, hipcc, glslc)"
    return BackendChoice(LlamaBackend.CPU, f"cpu: {why}", tuple(notes))


# ---- what a build for the chosen backend needs -------------------------------------------------

def _query(args: Sequence[str]) -> str:
    """A tool's answer, or "" when it fails (a GPU query must never stop a build)."""
    try:
        done = subprocess.run(list(args), capture_output=True, text=True, timeout=20, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return ""
    return done.stdout if done.returncode == 0 else ""


def cuda_architectures(nvidia_smi: Path | None) -> list[str]:
    """This machine's GPUs' compute capabilities as CMake wants them ("9.0" -> "90"), sorted, no repeats."""
    if nvidia_smi is None:
        return []
    answer = _query([str(nvidia_smi), "--query-gpu=compute_cap", "--format=csv,noheader"])
    caps = {line.strip().replace(".", "") for line in answer.splitlines()}
    return sorted(cap for cap in caps if cap.isdigit())


def rocm_targets(rocminfo: Path | None) -> list[str]:
    """The gfx names of this machine's AMD GPUs (rocminfo's "Name: gfx1100" lines)."""
    if rocminfo is None or rocminfo.name != "rocminfo":
        return []
    names = {line.split(":", 1)[1].strip() for line in _query([str(rocminfo)]).splitlines()
             if line.strip().startswith("Name:") and "gfx" in line}
    return sorted(name for name in names if name.startswith("gfx"))


@dataclass(frozen=True)
class BackendBuild:
    """CMake options for one backend and the suffix that keeps its binary apart in the cache."""

    options: tuple[str, ...] = ()
    variant: str = ""  # "" for the CPU: its cache folder is the plain version, as it always was


SIMPLE_BUILDS = {
    LlamaBackend.CPU: BackendBuild(),
    LlamaBackend.VULKAN: BackendBuild(("-DGGML_VULKAN=ON",), "vulkan"),
    LlamaBackend.METAL: BackendBuild(("-DGGML_METAL=ON",), "metal"),
}


def backend_build(choice: BackendChoice, tools: Toolchain) -> BackendBuild:
    """Build for this machine's GPUs only (a CUDA build for every architecture takes hours on 2 cores)."""
    backend = choice.backend
    if backend is LlamaBackend.CUDA:
        archs = cuda_architectures(tools.nvidia_smi)
        compiler = (f"-DCMAKE_CUDA_COMPILER={tools.nvcc}",) if tools.nvcc else ()
        if archs:
            return BackendBuild(("-DGGML_CUDA=ON", *compiler, f"-DCMAKE_CUDA_ARCHITECTURES={';'.join(archs)}"),
                                "cuda-" + "-".join(f"sm{arch}" for arch in archs))
        return BackendBuild(("-DGGML_CUDA=ON", *compiler), "cuda")
    if backend is LlamaBackend.ROCM:
        targets = rocm_targets(tools.rocm_device)
        if targets:
            return BackendBuild(("-DGGML_HIP=ON", f"-DGPU_TARGETS={';'.join(targets)}"), "rocm-" + "-".join(targets))
        return BackendBuild(("-DGGML_HIP=ON",), "rocm")
    return SIMPLE_BUILDS[backend]
