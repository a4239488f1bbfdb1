"""ModelCatalog: what the allowed model folders hold, described by GGUF metadata, and whether it fits.

The scan reads only files that changed since the last one (cached in SQLite by path, size and
mtime) and reports progress through a bindable object. The catalog knows files, not models: the
deck asks it to describe each configured model (`descriptions`), so cards and forms can say what a
model is and whether it will fit before it starts. A look at the folders (`look`: names, sizes and
times only) says whether they changed since the last scan, so the deck can keep them current.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Collection, Iterable, Sequence
from pathlib import Path

from nicegui import Event, binding
from tortoise.exceptions import BaseORMException

from discovery import (
    FitEstimate,
    FolderListing,
    FoundModel,
    FreeMemory,
    GgufError,
    GgufInfo,
    ScanResult,
    TortoiseScanCache,
    estimate_fit,
    free_memory,
    list_model_dirs,
    read_gguf_info,
    scan_model_dirs,
    suggest_config,
)
from protocol import ModelConfig
from protocol.model_files import ModelFileError, resolve_model_file

log = logging.getLogger(__name__)

Description = tuple[GgufInfo | None, FitEstimate | None]  # what the file says, whether it fits now


@binding.bindable_dataclass
class ScanProgress:
    done: int = 0
    total: int = 0
    running: bool = False
    summary: str = "not scanned yet"

    @property
    def fraction(self) -> float:
        return self.done / self.total if self.total else 0.0


class _CacheIgnoringWriteFailures(TortoiseScanCache):
    """A cache that cannot be written only costs a re-read next time; it must not fail the scan."""

    async def store(self, examined: Sequence) -> None:  # type: ignore[type-arg]
        try:
            await super().store(examined)
        except BaseORMException as exc:
            log.warning("the GGUF scan cache was not saved: %s", exc)


class ModelCatalog:
    def __init__(self, allowed_dirs: Sequence[Path], memory: Callable[[], FreeMemory] = free_memory) -> None:
        """`memory`: how much is free now (the machine's; a test may give a smaller machine's)."""
        self.allowed_dirs = tuple(allowed_dirs)
        self.memory = memory
        self.progress = ScanProgress()
        self.result: ScanResult | None = None
        self.scanned: Event[[]] = Event()
        self._scan_lock = asyncio.Lock()
        self._infos: dict[str, GgufInfo] = {}

    async def scan(self, listing: FolderListing | None = None) -> ScanResult:
        """Scan the folders (one scan at a time: a second caller waits for and shares the next result)."""
        async with self._scan_lock:
            self.progress.running = True
            try:
                self.result = await scan_model_dirs(self.allowed_dirs, cache=_CacheIgnoringWriteFailures(),
                                                    on_progress=self._report, listing=listing)
            finally:
                self.progress.running = False
            self._infos = {found.path: found.info for found in self.result.models}
            self.progress.summary = (f"{len(self.result.models)} models, {len(self.result.projectors)} projectors, "
                                     f"{len(self.result.refused)} refused ({self.result.files_read} files read)")
            self.scanned.emit()
            return self.result

    async def look(self) -> FolderListing | None:
        """What the folders hold now, when that differs from what the last scan saw; None when nothing changed
        (a file copied in, grown, replaced or removed is a change)."""
        listing = await asyncio.to_thread(list_model_dirs, self.allowed_dirs)
        return None if self.result is not None and listing == self.result.listing else listing

    def _report(self, done: int, total: int) -> None:
        self.progress.done, self.progress.total = done, total

    def unconfigured(self, used_paths: Iterable[str]) -> list[FoundModel]:
        """Models found in the folders that none of `used_paths` (the configurations' files) is."""
        if self.result is None:
            return []
        used = {_real(path) for path in used_paths}
        return [found for found in self.result.models if _real(found.path) not in used]

    def files(self) -> list[FoundModel]:
        """The models the last scan found in the allowed folders (a projector is no model on its own)."""
        return [] if self.result is None else [found for found in self.result.models if not found.info.is_mmproj]

    def named(self, name: str) -> list[FoundModel]:
        """The models found under this bare file name (`tiny.gguf`), in any allowed folder."""
        return [found for found in self.files() if Path(found.path).name == name]

    @staticmethod
    def suggestion(found: FoundModel, taken_names: Collection[str]) -> ModelConfig:
        return suggest_config(found.info, taken_names)

    async def info(self, path: str) -> GgufInfo | None:
        """The file's metadata (from the last scan, else read now); None when it cannot be read."""
        known = self._infos.get(path)
        if known is not None:
            return known
        try:  # only files a configuration may use: a form must not probe the rest of the disk
            real = resolve_model_file(path, self.allowed_dirs)
            info = await asyncio.to_thread(read_gguf_info, real)
        except (GgufError, ModelFileError, OSError):
            return None
        self._infos[path] = info
        return info

    async def fit(self, config: ModelConfig, free: FreeMemory | None = None) -> FitEstimate | None:
        """Weights plus KV cache for this configuration against the memory free now (or `free`)."""
        info = await self.info(config.model_path)
        if info is None or info.is_mmproj:
            return None
        return estimate_fit(config, info, free or await asyncio.to_thread(self.memory))

    async def descriptions(self, configs: Sequence[ModelConfig]) -> list[Description]:
        """Each configuration's metadata and fit estimate (after a save, a scan, or before a start)."""
        free = await asyncio.to_thread(self.memory)  # one reading for them all, not one per model
        return [(await self.info(config.model_path), await self.fit(config, free)) for config in configs]


def _real(path: str) -> str:
    try:
        return str(Path(path).resolve())
    except (OSError, RuntimeError):
        return path
