"""An admin downloads a consistent snapshot of the database while ModelDeck writes, and restoring it as the
README says brings back exactly what it held."""

from __future__ import annotations

import asyncio
import sqlite3
from contextlib import closing
from pathlib import Path

from tests.api.conftest import Managed, ManagedFactory


async def keep_editing(deck: Managed, uid: str, stop: asyncio.Event) -> int:
    """Edit one configuration again and again (each edit a transaction with its audit line and version)."""
    edits = 0
    while not stop.is_set():
        current = (await deck.call("GET", f"/api/models/{uid}")).body
        answer = await deck.call("PUT", f"/api/models/{uid}", json={**current, "ctx_size": 257 + edits})
        assert answer.status == 200, answer
        edits += 1
    return edits


async def test_a_backup_taken_while_writing_is_whole_and_restores_as_the_readme_says(
        managed: ManagedFactory, tmp_path: Path) -> None:
    deck = await managed(models={f"m{index}": {"family": "llama"} for index in range(20)})
    uid = deck.rows()[0]["uid"]
    stop = asyncio.Event()
    editing = asyncio.create_task(keep_editing(deck, uid, stop))
    backups = []
    for _ in range(3):
        answer = await deck.call("GET", "/api/backup")
        assert answer.status == 200 and answer.headers["Content-Type"] == "application/vnd.sqlite3"
        assert "attachment" in answer.headers["Content-Disposition"]
        backups.append(answer.raw)
    stop.set()
    assert await editing > 0, "the database was being written while the backups were taken"

    snapshot = tmp_path / "backup.sqlite3"
    snapshot.write_bytes(backups[-1])
    with closing(sqlite3.connect(snapshot)) as db:
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        assert db.execute("PRAGMA journal_mode").fetchone() == ("delete",)  # one self-contained file
        names = [row[0] for row in db.execute("SELECT name FROM model_config ORDER BY name")]
        [(ctx,)] = db.execute("SELECT ctx_size FROM model_config WHERE uid = ?", (uid,))
        [(versions,)] = db.execute("SELECT count(*) FROM config_version WHERE uid = ?", (uid,))
        [(edits,)] = db.execute("SELECT count(*) FROM audit_log WHERE action = 'model.update'")
    assert len(names) == 20 and versions == edits + 1  # every edit's version and audit line, or neither (+ baseline)
    assert deck.rows("SELECT actor FROM audit_log WHERE action = 'database.backup'")[0]["actor"] == "key:script"

    # After the backup: a model it does not hold. Then restore as the README says: stop, replace the file, start.
    added = await deck.call("POST", "/api/models", json={"name": "after-the-backup",
                                                         "model_path": str(deck.models_dir / "tiny.gguf")})
    assert added.status == 201
    deck.app.stop()
    for leftover in deck.db_path.parent.glob("modeldeck.sqlite3-*"):  # -wal and -shm
        leftover.unlink()
    deck.db_path.write_bytes(snapshot.read_bytes())
    deck.app.start()
    restored = {model["name"]: model for model in (await deck.call("GET", "/api/models")).body}
    assert sorted(restored) == names and restored["m0"]["ctx_size"] == ctx
