"""How rates read on a card (bytes: protocol.units.format_bytes)."""

from __future__ import annotations


def rate(value: float | None, unit: str) -> str:
    return "-" if value is None else f"{value:.1f} {unit}"
