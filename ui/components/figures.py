"""How rates read for a person (bytes and durations: protocol.units)."""

from __future__ import annotations


def rate(value: float | None, unit: str) -> str:
    return "-" if value is None else f"{value:.1f} {unit}"
