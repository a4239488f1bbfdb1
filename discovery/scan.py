"""Finding the models in the allowed folders.

A file is a candidate when it starts with the GGUF magic bytes or is named *.gguf: a GGUF
without the extension (a Hugging Face cache blob) is found, and a file named .gguf that is
not one is reported with the reason. The parts of a split model become one entry, and
multimodal projectors are listed apart. Disk work runs in a thread; a cache keyed by
(path, size, mtime_ns) makes a re-scan read only the files that changed.
"""

from __future__ import annotations

import asyncio
import os
import re
import stat
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from discovery.cache import Examined, FileStamp, ScanCache
from discovery.metadata import GgufError, GgufInfo, read_gguf_info
from protocol.model_files import GGUF_MAGIC

ProgressCallback = Callable[[int, int], None]

# llama.cpp finds the other parts of a split model by this name pattern only.
SPLIT_NAME = re.compile(r"^(?P<prefix>.+)-(?P<no>\d{5})-of-(?P<count>\d{5})\.gguf$")
GGUF_SUFFIX = ".gguf"


@dataclass(frozen=True)
class FoundModel:
    """One loadable model (or projector); `info` covers all its parts."""

    info: GgufInfo
    parts: tuple[str, ...]

    @property
    def path(self) -> str:
        """The path to give llama-server: the file, or the first part of a split model."""
        return self.parts[0]


@dataclass(frozen=True)
class RefusedFile:
    path: str
    reason: str


@dataclass(frozen=True)
class FolderListing:
    """What the folders hold, by name, size and modification time only: cheap to take (no file is read
    but the first bytes of one without a .gguf name), and equal to the last one when nothing changed."""

    candidates: tuple[FileStamp, ...]
    refused: tuple[RefusedFile, ...]


@dataclass(frozen=True)
class ScanResult:
    models: tuple[FoundModel, ...]
    projectors: tuple[FoundModel, ...]
    refused: tuple[RefusedFile, ...]
    files_read: int
    files_cached: int
    listing: FolderListing = FolderListing((), ())  # what the scan saw: a later listing that differs means news


async def scan_model_dirs(
    dirs: Iterable[Path], *, cache: ScanCache | None = None, on_progress: ProgressCallback | None = None,
    listing: FolderListing | None = None,
) -> ScanResult:
    """Scan the folders (recursively, skipping hidden entries) and describe every GGUF found.

    `on_progress(done, total)` is called as files are examined, total being the number of
    candidate files; the first call has done == 0. `listing`: one just taken, not taken again.
    """
    if listing is None:
        listing = await asyncio.to_thread(list_model_dirs, list(dirs))
    candidates, refused = list(listing.candidates), list(listing.refused)
    total = len(candidates)
    report = on_progress or (lambda done, total: None)
    report(0, total)

    remembered = await cache.lookup([c.path for c in candidates]) if cache else {}
    examined: list[Examined] = []
    changed: list[FileStamp] = []
    for stamp in candidates:
        known = remembered.get(stamp.path)
        if known is not None and known.stamp == stamp:
            examined.append(known)
        else:
            changed.append(stamp)
    if examined:
        report(len(examined), total)
    fresh: list[Examined] = []
    for stamp in changed:
        fresh.append(await asyncio.to_thread(_examine, stamp))
        examined.append(fresh[-1])
        report(len(examined), total)
    if cache and fresh:
        await cache.store(fresh)

    models, projectors, more_refused = _assemble(examined)
    return ScanResult(
        models=tuple(sorted(models, key=lambda m: m.path)),
        projectors=tuple(sorted(projectors, key=lambda m: m.path)),
        refused=tuple(sorted(refused + more_refused, key=lambda r: r.path)),
        files_read=len(fresh),
        files_cached=total - len(fresh),
        listing=listing,
    )


def _examine(stamp: FileStamp) -> Examined:
    try:
        return Examined(stamp, info=read_gguf_info(stamp.path))
    except GgufError as exc:
        return Examined(stamp, error=str(exc))


def list_model_dirs(dirs: Sequence[Path]) -> FolderListing:
    """The candidate files of the folders (disk work: call it in a thread)."""
    roots = [Path(d).expanduser().resolve() for d in dirs]
    by_target: dict[str, FileStamp] = {}  # one entry per real file, however many links lead to it
    refused: list[RefusedFile] = []
    for root in roots:
        for folder, subdirs, names in os.walk(root):
            subdirs[:] = sorted(d for d in subdirs if not d.startswith("."))
            for name in sorted(names):
                if name.startswith("."):
                    continue
                path = os.path.join(folder, name)
                named_gguf = name.lower().endswith(GGUF_SUFFIX)
                try:
                    target = Path(path).resolve(strict=True)
                    info = target.stat()
                except (OSError, RuntimeError):
                    if named_gguf:
                        refused.append(RefusedFile(path, "cannot be opened (a broken link, or no permission)"))
                    continue
                if not stat.S_ISREG(info.st_mode):
                    continue
                if not any(target.is_relative_to(r) for r in roots):
                    if named_gguf:
                        refused.append(RefusedFile(path, "links to a file outside the allowed model folders"))
                    continue
                if not named_gguf and not _starts_with_magic(target):
                    continue
                key = str(target)
                # Prefer the name that says .gguf (a cache's snapshot link over its blob).
                if key not in by_target or (named_gguf and not by_target[key].path.lower().endswith(GGUF_SUFFIX)):
                    by_target[key] = FileStamp(path, info.st_size, info.st_mtime_ns)
    return FolderListing(tuple(by_target.values()), tuple(refused))


def _starts_with_magic(path: Path) -> bool:
    try:
        with path.open("rb") as handle:
            return handle.read(len(GGUF_MAGIC)) == GGUF_MAGIC
    except OSError:
        return False


def _assemble(examined: Sequence[Examined]) -> tuple[list[FoundModel], list[FoundModel], list[RefusedFile]]:
    """Sort outcomes into models, projectors and refusals, joining the parts of split models."""
    singles: list[FoundModel] = []
    refused: list[RefusedFile] = []
    split_groups: dict[tuple[str, str, int], list[tuple[int, GgufInfo]]] = {}
    for item in examined:
        if item.info is None:
            refused.append(RefusedFile(item.stamp.path, item.error or "unreadable"))
            continue
        info = item.info
        if not info.is_split:
            singles.append(FoundModel(info, (info.path,)))
            continue
        match = SPLIT_NAME.match(Path(info.path).name)
        if match is None:
            refused.append(RefusedFile(info.path, "part of a split model, but not named NAME-00001-of-0000N.gguf, "
                                                  "so llama-server cannot find the other parts"))
            continue
        key = (str(Path(info.path).parent), match["prefix"], int(match["count"]))
        split_groups.setdefault(key, []).append((int(match["no"]), info))
    for (_folder, _prefix, count), parts in split_groups.items():
        joined = _join_split(parts, count)
        if isinstance(joined, RefusedFile):
            refused.append(joined)
        else:
            singles.append(joined)
    models = [m for m in singles if not m.info.is_mmproj]
    projectors = [m for m in singles if m.info.is_mmproj]
    return models, projectors, refused


def _join_split(numbered: list[tuple[int, GgufInfo]], count: int) -> FoundModel | RefusedFile:
    """`numbered`: each part with the number its name gives (1-based, as in -00001-of-)."""
    numbered = sorted(numbered, key=lambda item: item[0])
    parts = [info for _, info in numbered]
    first = parts[0]
    for number, info in numbered:
        if info.split_count != count or info.split_no != number - 1:
            return RefusedFile(info.path, f"its name says part {number} of {count}, but its metadata says part "
                                          f"{(info.split_no or 0) + 1} of {info.split_count}")
    present = {info.split_no for info in parts}
    missing = [n + 1 for n in range(count) if n not in present]
    if missing:
        listed = ", ".join(str(n) for n in missing)
        noun = "part" if len(missing) == 1 else "parts"
        return RefusedFile(first.path, f"split model incomplete: {noun} {listed} of {count} missing")
    tensors = sum(p.tensor_count for p in parts)
    if first.split_tensors_count is not None and tensors != first.split_tensors_count:
        return RefusedFile(first.path, f"split model damaged: its parts hold {tensors} tensors, "
                                       f"the first part announces {first.split_tensors_count}")
    merged = first.model_copy(update={
        "file_size": sum(p.file_size for p in parts),
        "parameter_count": sum(p.parameter_count for p in parts),
        "tensor_count": tensors,
    })
    return FoundModel(merged, tuple(p.path for p in parts))
