"""Installing ModelDeck's lifespan (database, store, runner) around NiceGUI's own.

Tests run main.py once per test on the same FastAPI app object; keeping NiceGUI's original
lifespan aside means each run replaces the previous wiring instead of stacking on it.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from typing import Any

from fastapi import FastAPI
from fastapi.routing import _merge_lifespan_context

Lifespan = Callable[[Any], AbstractAsyncContextManager[Any]]
_nicegui_lifespans: dict[int, Lifespan] = {}


def install_lifespan(app: FastAPI, lifespan: Lifespan) -> None:
    """Run `lifespan` around NiceGUI's startup and shutdown: ours opens first and closes last."""
    base = _nicegui_lifespans.setdefault(id(app), app.router.lifespan_context)
    app.router.lifespan_context = _merge_lifespan_context(lifespan, base)  # type: ignore[arg-type]
