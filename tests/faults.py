"""Real filesystem faults for tests: a tiny filesystem that can be filled and freed, and a read-only view
of a folder.

(A filesystem cannot be remounted read-only under a database that is open for writing: Linux answers
"busy". A database goes read-only under the app only through its file's mode, which db/writes.py checks.)

Mounting needs root (CI runs as root; so does this machine). Without it, the tests that need a
mount skip with the reason; `read_only_folder` falls back to a folder without write permission,
which stops anybody but root.
"""

from __future__ import annotations

import contextlib
import errno
import functools
import os
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

FILLER = "filler"


@functools.cache
def can_mount() -> bool:
    """Root, and allowed to mount here (a root container without CAP_SYS_ADMIN is not): tried once."""
    if os.geteuid() != 0:
        return False
    with tempfile.TemporaryDirectory(prefix="modeldeck-mount-") as trial:
        try:
            _mount("-t", "tmpfs", "-o", "size=64k", "tmpfs", trial)
        except (OSError, subprocess.CalledProcessError):
            return False
        _unmount(Path(trial))
    return True


def _mount(*args: str) -> None:
    subprocess.run(["mount", *args], check=True, capture_output=True)


def _unmount(path: Path) -> None:
    # lazy: a server or a database still holding a file there must not keep the mount (or the test) alive
    subprocess.run(["umount", "--lazy", str(path)], check=True, capture_output=True)


class SmallFilesystem:
    """A tmpfs of a few MiB mounted at `path`: fill it to the last byte, free it again."""

    def __init__(self, path: Path, size_bytes: int) -> None:
        self.path = path
        self.size_bytes = size_bytes

    def fill(self) -> None:
        """Write a filler file until the filesystem says ENOSPC: nothing else fits afterwards."""
        block = b"\0" * 4096
        with (self.path / FILLER).open("ab", buffering=0) as filler:
            while True:
                try:
                    filler.write(block)
                except OSError as exc:
                    if exc.errno != errno.ENOSPC:
                        raise
                    break
            # the last partial block too, so not one byte is left
            for size in (2048, 1024, 512, 256, 128, 64, 32, 16, 8, 4, 2, 1):
                with contextlib.suppress(OSError):
                    filler.write(b"\0" * size)

    @property
    def full(self) -> bool:
        stats = os.statvfs(self.path)
        return stats.f_bavail == 0

    def free(self) -> None:
        (self.path / FILLER).unlink(missing_ok=True)


@contextlib.contextmanager
def small_filesystem(path: Path, size_bytes: int = 4 * 1024 * 1024) -> Iterator[SmallFilesystem]:
    """A fresh tmpfs at `path` (created) for the block's duration; skips the test where mounting is not allowed."""
    if not can_mount():
        pytest.skip("mounting a tmpfs needs root allowed to mount (CI runs the suite as root)")
    path.mkdir(parents=True, exist_ok=True)
    _mount("-t", "tmpfs", "-o", f"size={size_bytes},mode=0755", "tmpfs", str(path))
    try:
        yield SmallFilesystem(path, size_bytes)
    finally:
        _unmount(path)


@contextlib.contextmanager
def read_only_folder(folder: Path) -> Iterator[Path]:
    """`folder`, seen read-only: as root a read-only bind mount (root ignores permissions, not a read-only
    mount); otherwise the folder itself without write permission."""
    if not can_mount():
        mode = folder.stat().st_mode
        folder.chmod(0o555)
        try:
            yield folder
        finally:
            folder.chmod(mode)
        return
    view = folder.with_name(folder.name + "-read-only")
    view.mkdir()
    _mount("--bind", str(folder), str(view))
    try:
        _mount("-o", "remount,ro,bind", str(view))
        yield view
    finally:
        _unmount(view)
