"""How rates and durations read for a person (bytes: protocol.units.format_bytes)."""

from __future__ import annotations


def rate(value: float | None, unit: str) -> str:
    return "-" if value is None else f"{value:.1f} {unit}"


def duration(seconds: float | None) -> str:
    """45 s, 3 min 10 s, 1 h 5 min."""
    if seconds is None:
        return "-"
    whole = round(seconds)
    if whole < 60:
        return f"{whole} s"
    if whole < 3600:
        return f"{whole // 60} min {whole % 60} s"
    return f"{whole // 3600} h {whole % 3600 // 60} min"
