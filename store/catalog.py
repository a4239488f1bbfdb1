"""ModelCatalog: what the allowed model folders hold, described by GGUF metadata, and whether it fits.

The scan reads only files that changed since the last one (cached in SQLite by path, size and
mtime), reports progress through a bindable object, and fills each configured model's `info`
and `fit` so cards and forms can say what a model is and whether it will fit before it starts.
While the app runs the catalog looks at the folders every few seconds (names, sizes and times
only) and scans again when they changed, so a file copied in shows up by itself.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
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
from store.deck import ModelDeck
from store.model_state import ModelState

log = logging.getLogger(__name__)


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
    def __init__(self, deck: ModelDeck, allowed_dirs: Sequence[Path]) -> None:
        self.deck = deck
        self.allowed_dirs = tuple(allowed_dirs)
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
            await self.describe_deck()
            self.scanned.emit()
            return self.result

    async def keep_current(self, every_s: float) -> None:
        """Scan now, then list the folders every `every_s` and scan again when what they hold changed: a file
        copied in, grown, replaced or removed. Runs until cancelled; a failing look is logged and retried."""
        listing: FolderListing | None = None
        while True:
            try:
                if listing is None or self.result is None or listing != self.result.listing:
                    await self.scan(listing)
                await asyncio.sleep(every_s)  # a pacing timer, not synchronisation
                listing = await asyncio.to_thread(list_model_dirs, self.allowed_dirs)
            except Exception:  # a folder that vanished, a database hiccup: the next look tries again
                log.exception("looking at the model folders failed")
                listing = None
                await asyncio.sleep(every_s)

    def _report(self, done: int, total: int) -> None:
        self.progress.done, self.progress.total = done, total

    def unconfigured(self) -> list[FoundModel]:
        """Models found in the folders that no configuration uses yet."""
        if self.result is None:
            return []
        used = {_real(state.config.model_path) for state in self.deck.models.values()}
        return [found for found in self.result.models if _real(found.path) not in used]

    def suggestion(self, found: FoundModel) -> ModelConfig:
        return suggest_config(found.info, [state.name for state in self.deck.models.values()])

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
        return estimate_fit(config, info, free or await asyncio.to_thread(free_memory))

    async def describe(self, state: ModelState, free: FreeMemory | None = None) -> None:
        """Fill a model's metadata and fit estimate (after a save, a scan, or before a start)."""
        state.info = await self.info(state.config.model_path)
        state.fit = await self.fit(state.config, free)

    async def describe_deck(self) -> None:
        free = await asyncio.to_thread(free_memory)  # one reading for the whole deck, not one per model
        for state in list(self.deck.models.values()):
            await self.describe(state, free)


def _real(path: str) -> str:
    try:
        return str(Path(path).resolve())
    except (OSError, RuntimeError):
        return path
