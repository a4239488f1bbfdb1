"""Which llama-server binary to run.

Order: an explicit path (flag or setting) > MODELDECK_LLAMA_SERVER > `llama-server` on PATH >
the cached build > build it now (minutes; only when allowed). An explicit path that does not run
is an error, not a reason to fall back silently to another binary.
"""

from __future__ import annotations

import asyncio
import logging
import os
import shutil
from pathlib import Path

from runner import llama_build

log = logging.getLogger(__name__)
ENV_VAR = "MODELDECK_LLAMA_SERVER"


class BinaryNotFound(RuntimeError):
    """No usable llama-server; the message says what was tried."""


def find_binary(explicit: str | Path | None = None) -> Path | None:
    """The binary to use without building; None if there is none. Raises if an explicit one is unusable."""
    for source, given in (("the --llama-server setting", explicit), (ENV_VAR, os.environ.get(ENV_VAR))):
        if given:
            path = Path(given).expanduser()
            if not (path.is_file() and os.access(path, os.X_OK)):
                raise BinaryNotFound(f"{path} (from {source}) is not an executable file")
            return path
    on_path = shutil.which("llama-server")
    if on_path:
        return Path(on_path)
    cached = llama_build.cached_binary()
    if llama_build.binary_works(cached):
        return cached
    return None


def resolve_binary(explicit: str | Path | None = None, *, allow_build: bool = True) -> Path:
    """find_binary, else build from source into the cache (blocking, several minutes on 2 cores)."""
    found = find_binary(explicit)
    if found is not None:
        return found
    if not allow_build:
        raise BinaryNotFound("no llama-server: give --llama-server, set MODELDECK_LLAMA_SERVER, "
                             "put it on PATH, or run `python -m runner.llama_build`")
    log.warning("no llama-server binary found; building one from source (this takes minutes)")
    try:
        return llama_build.build()
    except Exception as exc:  # any build failure becomes one clear reason for the user
        raise BinaryNotFound(f"building llama-server failed: {exc}") from exc


class BinarySource:
    """Resolves the binary once, lazily, off the event loop; concurrent callers share one build."""

    def __init__(self, explicit: str | Path | None = None, *, allow_build: bool = True) -> None:
        self._explicit = explicit
        self._allow_build = allow_build
        self._path: Path | None = None
        self._lock = asyncio.Lock()

    @property
    def known(self) -> Path | None:
        """The binary when already resolved (then `path()` returns it without waiting)."""
        return self._path

    async def available(self) -> Path | None:
        """The binary if one exists now (never builds); BinaryNotFound for an explicit one that does not run."""
        if self._path is None:
            found = await asyncio.to_thread(find_binary, self._explicit)
            if found is not None:
                self._path = found
        return self._path

    async def path(self) -> Path:
        if self._path is not None:
            return self._path
        async with self._lock:
            if self._path is None:
                self._path = await asyncio.to_thread(resolve_binary, self._explicit, allow_build=self._allow_build)
            return self._path
