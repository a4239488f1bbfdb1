"""Where a model file may come from: an existing GGUF file inside one of the allowed folders."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

GGUF_MAGIC = b"GGUF"


class ModelFileError(ValueError):
    """The file cannot be used as a model; the message says why, for a person."""


def resolve_model_file(path: str, allowed_dirs: Iterable[Path]) -> Path:
    """Resolve symlinks and check the file lies inside an allowed folder and starts with GGUF magic."""
    if "\x00" in path:
        raise ModelFileError("the path contains a NUL byte")
    try:
        real = Path(path).expanduser().resolve(strict=True)  # "~nobody/x" raises RuntimeError
    except (FileNotFoundError, RuntimeError, OSError):
        raise ModelFileError(f"no such file: {path}") from None
    roots = [Path(d).expanduser().resolve() for d in allowed_dirs]
    if not any(real.is_relative_to(root) for root in roots):
        raise ModelFileError("the file is outside the allowed model folders")
    if not real.is_file():
        raise ModelFileError(f"not a file: {path}")
    try:
        with real.open("rb") as handle:
            magic = handle.read(4)
    except OSError as exc:
        raise ModelFileError(f"cannot read the file: {exc.strerror}") from None
    if magic != GGUF_MAGIC:
        raise ModelFileError("not a GGUF file (it does not start with the GGUF magic bytes)")
    return real
