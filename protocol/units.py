"""How quantities read for a person, the same on every page and in every message."""

from __future__ import annotations


def format_bytes(count: float | None) -> str:
    """1.2 GiB, 340.5 MiB: binary units, as llama.cpp logs them; "-" when unknown."""
    if count is None:
        return "-"
    for unit, size in (("TiB", 1 << 40), ("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if abs(count) >= size:
            return f"{count / size:.1f} {unit}"
    return f"{count:.0f} B"
