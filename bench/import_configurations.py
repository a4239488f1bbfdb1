"""Importing 1,000 configurations in one transaction: ModelDeck's JSON export and a llama-swap config.yaml, read,
checked (every model file, every flag against the real llama-server's allowlist), planned and written with
their versions and audit lines; against two baselines in the same run: an import of 10 (the cost per
configuration should not grow with the count: one transaction, no per-model commit) and the floor, raw sqlite3
writing the same rows.

Runs the deck in this process on a real SQLite file in a temporary folder (no browser open, no runner: the
runner's flags are read from the real binary, as the runner reads them). Then the same 1,000 as a script or the
Import dialog sends them: POST /api/import to the real app (`python main.py`, a fresh one for each repeat), timed
from the client, request and answer included. Prints medians over the repeats.

    .venv/bin/python bench/import_configurations.py [--models 1000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sqlite3
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from contextlib import closing
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import aiohttp  # noqa: E402

from db.database import open_database  # noqa: E402
from protocol.flags import FlagCatalog  # noqa: E402
from runner.binary import resolve_binary  # noqa: E402
from runner.flag_catalog import read_catalog  # noqa: E402
from store import ModelDeck  # noqa: E402
from store.actor import LOCAL_ADMIN  # noqa: E402
from store.catalog import ModelCatalog  # noqa: E402
from store.importing import OnConflict, read_file  # noqa: E402
from tests.browser.deck_app import DeckApp  # noqa: E402
from tests.tiny_gguf import write_tiny_llama  # noqa: E402


def export_document(models: Path, count: int) -> bytes:
    files = sorted(models.glob("*.gguf"))
    return json.dumps({"format": "modeldeck-configurations", "version": 1, "configurations": [
        {"name": f"model-{index:04d}", "model_path": str(files[index % len(files)]), "family": "llama",
         "ctx_size": 4096 + index, "gpu_layers": index % 40, "threads": 1 + index % 8,
         "aliases": [f"alias-{index:04d}"], "extra_args": ["--temp", "0.7", "--top-k", "40", "--jinja"],
         "env": {"CUDA_VISIBLE_DEVICES": str(index % 2)}, "notes": f"model {index}"}
        for index in range(count)]}).encode()


def llama_swap_file(models: Path, count: int) -> bytes:
    files = sorted(models.glob("*.gguf"))
    lines = ["macros:", "  server: llama-server --host 127.0.0.1 --port ${PORT} --metrics", "models:"]
    for index in range(count):
        lines += [f"  model-{index:04d}:",
                  f"    cmd: ${{server}} -m {files[index % len(files)]} -c {4096 + index} -ngl 99 -fa on --temp 0.7",
                  f"    aliases: [alias-{index:04d}]", "    ttl: 300", '    env: ["CUDA_VISIBLE_DEVICES=0"]']
    return "\n".join(lines).encode()


async def timed_import(home: Path, catalog: FlagCatalog, data: bytes, kind: str, expected: int) -> float:
    db_path = home / f"{uuid.uuid4().hex}.sqlite3"
    async with open_database(db_path):
        deck = ModelDeck(ModelCatalog((home / "models",)))
        deck.use_flags(catalog)
        await deck.load()
        started = time.perf_counter()
        plan = await deck.import_file(read_file(data, kind, deck.flags), OnConflict.SKIP, actor=LOCAL_ADMIN,
                                      apply=True)
        elapsed = time.perf_counter() - started
        assert plan.applied and len(plan.written) == expected, plan.counts()
    with closing(sqlite3.connect(db_path)) as db:
        assert db.execute("SELECT count(*) FROM model_config").fetchone() == (expected,)
        assert db.execute("SELECT count(*) FROM config_version").fetchone() == (expected,)
    return elapsed


def raw_sqlite_floor(home: Path, template: Path, count: int) -> float:
    """The same rows (configuration, version, audit line per model) written with plain sqlite3 executemany
    in one transaction: what the disk and SQLite cost, nothing of ModelDeck's checks."""
    db_path = home / f"{uuid.uuid4().hex}.sqlite3"
    db_path.write_bytes(template.read_bytes())
    settings = json.dumps({"name": "x", "extra_args": ["--temp", "0.7"]})
    with closing(sqlite3.connect(db_path, isolation_level=None)) as db:
        started = time.perf_counter()
        db.execute("BEGIN")
        db.executemany(
            "INSERT INTO model_config (uid, name, model_path, family, ctx_size, gpu_layers, batch_size, parallel, "
            "flash_attn, cache_type_k, cache_type_v, aliases, extra_args, env, autostart, restart_policy, "
            "restart_limit, notes, created_at, updated_at, status, last_lines) VALUES (?, ?, '/m/x.gguf', 'llama', "
            "4096, 0, 2048, 1, 0, 'f16', 'f16', '[]', '[\"--temp\"]', '{}', 0, 'never', 3, '', datetime('now'), "
            "datetime('now'), 'stopped', '[]')", [(uuid.uuid4().hex, f"model-{i:04d}") for i in range(count)])
        db.executemany("INSERT INTO config_version (uid, number, at, actor, action, settings, changes) VALUES "
                       "(?, 1, datetime('now'), 'local', 'import', ?, '{}')",
                       [(uuid.uuid4().hex, settings) for _ in range(count)])
        db.executemany("INSERT INTO audit_log (at, actor, action, target, detail) VALUES (datetime('now'), 'local', "
                       "'model.import', ?, 'new')", [(f"model-{i:04d}",) for i in range(count)])
        db.execute("COMMIT")
        return time.perf_counter() - started


async def timed_api_import(home: Path, write: Callable[[Path, int], bytes], kind: str, count: int) -> float:
    """One POST /api/import of `count` configurations to a fresh ModelDeck (open on loopback), once the runner's
    flags are known."""
    for index in range(8):
        write_tiny_llama(home / "models" / f"tiny-{index}.gguf")
    data = write(home / "models", count)
    app = DeckApp(home, resolve_binary())
    app.start()
    try:
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=120)) as http:
            while True:  # 503 until the runner has sent its flags (imports are checked against them)
                async with http.post(f"{app.url}/api/import?dry_run=true", data=b"models: {}\n") as answer:
                    if answer.status == 200:
                        break
                    assert answer.status == 503, answer.status
                await asyncio.sleep(0.1)  # polling the route: its answer is the condition
            started = time.perf_counter()
            async with http.post(f"{app.url}/api/import?on_conflict=skip", data=data,
                                 headers={"Content-Type": kind}) as answer:
                plan = await answer.json()
            elapsed = time.perf_counter() - started
        assert answer.status == 200 and plan["counts"]["new"] == count, (answer.status, plan.get("counts"))
    finally:
        app.stop()
    return elapsed


BASELINE = 10  # a small import in the same run: the per-configuration cost at the full count is a ratio of it
FORMATS = (("ModelDeck JSON export", export_document, "application/json"),
           ("llama-swap config.yaml", llama_swap_file, "application/yaml"))


async def main(count: int, repeat: int) -> None:
    with tempfile.TemporaryDirectory(prefix="modeldeck-bench-") as tmp:
        home = Path(tmp)
        for index in range(8):
            write_tiny_llama(home / "models" / f"tiny-{index}.gguf")
        catalog = await read_catalog(resolve_binary(), cwd=home)
        template = home / "template.sqlite3"
        async with open_database(template):
            pass  # the schema, migrated, for the raw floor

        async def median_import(write: Callable[[Path, int], bytes], kind: str, models: int) -> tuple[float, int]:
            data = write(home / "models", models)
            times = [await timed_import(home, catalog, data, kind, models) for _ in range(repeat)]
            return statistics.median(times), len(data)

        results = [(label, await median_import(write, kind, count), await median_import(write, kind, BASELINE))
                   for label, write, kind in FORMATS]
        floor = statistics.median(raw_sqlite_floor(home, template, count) for _ in range(repeat))
        over_http = [(label, statistics.median([await timed_api_import(home / f"app-{kind[12:]}-{n}", write, kind,
                                                                       count) for n in range(repeat)]))
                     for label, write, kind in FORMATS]

    print(f"import of {count} configurations, one transaction each (median of {repeat}; goal < 2 s):")
    for label, (big, size), (small, _) in results:
        each, each_small = big / count * 1000, small / BASELINE * 1000
        print(f"  {label} ({size / 1e6:.2f} MB): {big:.3f} s, {each:.2f} ms a configuration; import of {BASELINE}: "
              f"{small * 1000:.1f} ms, {each_small:.2f} ms a configuration ({each / each_small:.2f}x)")
    json_s = results[0][1][0]
    print(f"  raw sqlite3, the same rows, no checks: {floor:.3f} s (the JSON import is {json_s / floor:.0f}x it)")
    print(f"the same {count} through the real app, POST /api/import from a client (median of {repeat}; goal < 2 s):")
    for (label, through), (_, (big, _), _) in zip(over_http, results, strict=True):
        print(f"  {label}: {through:.3f} s ({through / big:.2f}x the in-process import)")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=3)
    arguments = parser.parse_args()
    asyncio.run(main(arguments.models, arguments.repeat))
