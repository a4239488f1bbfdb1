"""How figures read on a card: bytes and rates for a person."""

from __future__ import annotations


def human_bytes(count: float | None) -> str:
    if count is None:
        return "-"
    for unit in ("B", "KiB", "MiB", "GiB"):
        if abs(count) < 1024:
            return f"{count:.0f} {unit}" if unit == "B" else f"{count:.1f} {unit}"
        count /= 1024
    return f"{count:.1f} TiB"


def rate(value: float | None, unit: str) -> str:
    return "-" if value is None else f"{value:.1f} {unit}"
