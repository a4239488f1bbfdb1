"""ModelDeck in NiceGUI's simulated browser, started by main.py as `python main.py` would start it.

main.py wraps the app's lifespan (NiceGUI's) in ModelDeck's own. A process builds its app once; NiceGUI's
tests run main.py again on the same app object (once per test, and again for each restart inside a test),
so before each run the app gets NiceGUI's own lifespan back: each run then wraps it, not the last run's.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from nicegui import core
from nicegui.testing import User, user_simulation

MAIN = Path(__file__).parents[1] / "main.py"
NICEGUI_LIFESPAN = core.app.router.lifespan_context  # tests/conftest.py imports this before any main.py run


def fresh_app() -> None:
    core.app.router.lifespan_context = NICEGUI_LIFESPAN
    if core.app.is_started:
        # A test that failed inside the app's lifespan skipped NiceGUI's shutdown (its lifespan has no
        # `finally`), and every later test would fail to start: stop it, whatever its handlers say.
        with contextlib.suppress(Exception):  # TimeoutError included: a handler that hangs must not hang the suite
            asyncio.run(asyncio.wait_for(core.app.stop(), timeout=10))


@asynccontextmanager
async def started_app() -> AsyncIterator[User]:
    """A (re)start of ModelDeck from main.py, and a browser on it."""
    fresh_app()
    async with user_simulation(main_file=MAIN) as user:
        yield user
