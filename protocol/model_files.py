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


def _looks_like_a_path(value: str) -> bool:
    try:
        float(value)  # "-0.5", ".5": numbers, not paths
    except ValueError:
        return "/" in value or value.startswith((".", "~"))
    return False


def check_arg_paths(args: Iterable[str], allowed_dirs: Iterable[Path]) -> None:
    """Every extra argument that looks like a file path (has a '/' or starts with '.' or '~'), alone or
    after `--flag=`, must resolve (symlinks followed) inside an allowed folder; the file need not exist."""
    roots: list[Path] | None = None  # resolved on the first path: most argument lists have none
    for arg in args:
        value = arg.split("=", 1)[1] if arg.startswith("-") and "=" in arg else arg
        if not _looks_like_a_path(value):
            continue
        if roots is None:
            roots = [Path(d).expanduser().resolve() for d in allowed_dirs]
        if "\x00" in value:
            raise ModelFileError("an extra argument contains a NUL byte")
        try:
            real = Path(value).expanduser().resolve()
        except (RuntimeError, OSError):
            raise ModelFileError(f"cannot resolve the path {value[:200]!r}") from None
        if not any(real.is_relative_to(root) for root in roots):
            raise ModelFileError(f"{value[:200]!r} is outside the allowed model folders")
