"""Model names: unique ignoring case (as a person reads them), at most NAME_MAX characters."""

from __future__ import annotations

from collections.abc import Collection

from protocol.config import NAME_MAX


def unique_name(wanted: str, existing_names: Collection[str]) -> str:
    """`wanted`, or `wanted (2)`, `(3)`...: for a duplicate ("X copy (2)") and a discovered file alike."""
    taken = {name.casefold() for name in existing_names}
    base = wanted[:NAME_MAX].strip()
    candidate, number = base, 1
    while candidate.casefold() in taken:
        number += 1
        suffix = f" ({number})"
        candidate = base[:NAME_MAX - len(suffix)].rstrip() + suffix
    return candidate
