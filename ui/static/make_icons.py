"""Draws ModelDeck's home-screen icons once (no image library needed): python ui/static/make_icons.py.

A blue square (safe for "maskable" cropping) with three white cards stacked like a deck; the
second card carries a green "running" dot.
"""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

BLUE = (59, 91, 219)
WHITE = (255, 255, 255)
GREEN = (47, 158, 68)
SIZES = (192, 512)


def _pixel(x: float, y: float) -> tuple[int, int, int]:
    """The colour at (x, y) in a unit square."""
    for top in (0.28, 0.44, 0.60):  # three cards inside the central 80 % (the maskable safe zone)
        if 0.24 <= x <= 0.76 and top <= y <= top + 0.12:
            if top == 0.44 and (x - 0.68) ** 2 + (y - 0.50) ** 2 <= 0.03 ** 2:
                return GREEN
            return WHITE
    return BLUE


def png(size: int) -> bytes:
    rows = b"".join(b"\x00" + bytes(c for x in range(size) for c in _pixel((x + 0.5) / size, (y + 0.5) / size))
                    for y in range(size))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", size, size, 8, 2, 0, 0, 0)  # 8-bit RGB
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows, 9)) + chunk(b"IEND", b"")


if __name__ == "__main__":
    for side in SIZES:
        (Path(__file__).parent / f"icon-{side}.png").write_bytes(png(side))
