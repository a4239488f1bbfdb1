"""kill -9 in the middle of a 200-model import: after a restart all of them are there or none, and the database
is whole. The app is killed while the import's transaction holds SQLite's write lock (seen from outside by a
second connection that cannot take it)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import sqlite3
import threading
import time
from contextlib import closing
from pathlib import Path

import aiohttp

from tests.api.conftest import Managed, ManagedFactory

MODELS = 200
ATTEMPTS = 3


def _write_lock_held(db_path: Path, answered: threading.Event) -> float | None:
    """Wait until another connection holds the write lock; how long it had been seen held, in seconds (a probe
    that takes the lock itself lets go at once). None: the import answered before its transaction was seen."""
    first_seen: float | None = None
    with closing(sqlite3.connect(db_path, timeout=0, isolation_level=None)) as probe:
        while not answered.is_set():
            try:
                probe.execute("BEGIN IMMEDIATE")
                probe.execute("ROLLBACK")
                first_seen = None
            except sqlite3.OperationalError:  # "database is locked": a writer is inside its transaction
                now = time.monotonic()
                first_seen = first_seen or now
                if now - first_seen >= 0.002:  # longer than any of the journal's small writes lasts
                    return now - first_seen
    return None


async def _kill_while_importing(deck: Managed, document: str) -> float | None:
    """Send the import and kill -9 the app while its transaction holds the lock: how long the lock had been seen
    held. None: the import was done before the probe saw its transaction (it holds the lock for about 65 ms here; a
    loaded machine can keep the probe from looking for that long), and nothing was killed."""
    assert deck.app.process is not None
    answered = threading.Event()
    sending = asyncio.create_task(deck.call("POST", "/api/import", data=document))
    sending.add_done_callback(lambda _: answered.set())
    held = await asyncio.to_thread(_write_lock_held, deck.db_path, answered)
    if held is None:
        answer = await sending
        assert answer.status == 200, f"the import was refused: {answer.status} {answer.body!r}"
        return None
    os.kill(deck.app.process.pid, signal.SIGKILL)
    deck.app.process.wait(timeout=10)
    with contextlib.suppress(aiohttp.ClientError):
        await sending
    return held


async def test_kill_9_during_a_200_model_import_leaves_all_or_none(managed: ManagedFactory) -> None:
    for attempt in range(1, ATTEMPTS + 1):
        deck = await managed(open_on_loopback=True)
        model_path = str(deck.models_dir / "tiny.gguf")
        document = json.dumps({"format": "modeldeck-configurations", "version": 1, "configurations": [
            {"name": f"imported-{index:03}", "model_path": model_path, "ctx_size": 256 + index,
             "extra_args": ["--temp", "0.5"], "notes": "x" * 2000} for index in range(MODELS)]})
        held = await _kill_while_importing(deck, document)
        if held is not None:
            break
        print(f"try {attempt}: the import was done before its transaction was seen; again with a new app")
    else:
        raise AssertionError(f"in {ATTEMPTS} tries the probe never saw the import's transaction")
    print(f"killed after seeing the write lock held for {held * 1000:.1f} ms")  # shown with -s

    deck.app.start()
    await deck.ready()
    with closing(sqlite3.connect(deck.db_path)) as db:
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    imported = [name for name in deck.model_names() if name.startswith("imported-")]
    versions = deck.rows("SELECT uid FROM config_version")
    assert len(imported) in {0, MODELS}, f"{len(imported)} of {MODELS} models after kill -9: not all or nothing"
    print(f"after the restart: {len(imported)} of {MODELS} imported models")
    assert len(versions) == len(imported), "each imported model has its version, and no version is left alone"
    listed = (await deck.call("GET", "/api/models")).body
    assert len(listed) == len(imported)

    if not imported:  # the import died with the process: doing it again brings them all
        again = await deck.call("POST", "/api/import", data=document)
        assert again.status == 200 and again.body["counts"]["new"] == MODELS
        assert len(deck.model_names()) == MODELS
