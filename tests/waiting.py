"""Waiting on a condition with a deadline: the only way tests here synchronise."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable


async def until(condition: Callable[[], object], within: float = 5.0, interval: float = 0.02,
                message: str = "condition") -> None:
    deadline = time.monotonic() + within
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"{message} did not hold within {within} s")
        await asyncio.sleep(interval)


async def eventually(check: Callable[[], Awaitable[object]], within: float = 5.0, interval: float = 0.05,
                     message: str = "condition") -> None:
    """Like `until`, for a condition that has to ask something over the network."""
    deadline = time.monotonic() + within
    while not await check():
        if time.monotonic() > deadline:
            raise AssertionError(f"{message} did not hold within {within} s")
        await asyncio.sleep(interval)
