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


def format_duration(seconds: float | None) -> str:
    """45 s, 3 min 10 s, 1 h 5 min; "-" when unknown."""
    if seconds is None:
        return "-"
    whole = round(seconds)
    if whole < 60:
        return f"{whole} s"
    if whole < 3600:
        return f"{whole // 60} min {whole % 60} s" if whole % 60 else f"{whole // 60} min"
    return f"{whole // 3600} h {whole % 3600 // 60} min"
