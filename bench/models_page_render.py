"""Time to first render of the models page with 200 models, against the empty page in the same run.

Runs main.py in NiceGUI's user simulation (server-side render of the page and its HTML response,
no browser) on a real SQLite file in a temporary folder. Prints medians over several opens.

    .venv/bin/python bench/models_page_render.py [--models 200] [--repeat 5]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from nicegui.testing import user_simulation  # noqa: E402

from db.database import open_database  # noqa: E402
from db.model_record import ModelRecord  # noqa: E402
from protocol import ModelConfig  # noqa: E402
from tests.tiny_gguf import write_tiny_llama  # noqa: E402


async def seed(db_path: Path, model_file: Path, count: int) -> None:
    async with open_database(db_path):
        for index in range(count):
            config = ModelConfig(name=f"model-{index:03d}", model_path=str(model_file), family="llama")
            await ModelRecord.create(**ModelRecord.config_values(config))


async def time_opens(repeat: int, count: int) -> list[float]:
    # NiceGUI's simulation resets its storage the pytest way only when it believes it runs under pytest.
    os.environ.setdefault("PYTEST_CURRENT_TEST", "bench/models_page_render.py")
    times = []
    async with user_simulation(main_file=ROOT / "main.py") as user:
        for _ in range(repeat):
            started = time.perf_counter()
            await user.open("/")
            times.append(time.perf_counter() - started)
            await user.should_see(f"model-{count - 1:03d}" if count else "No models yet")  # the page, not a login
    return times


async def measure(count: int, repeat: int) -> float:
    with tempfile.TemporaryDirectory(prefix="modeldeck-bench-") as tmp:
        home = Path(tmp)
        (home / "models").mkdir()
        model_file = Path(write_tiny_llama(home / "models" / "tiny.gguf"))
        # Loopback is open (no sign-in): the page measured is the models page itself.
        os.environ.update(MODELDECK_DATA_DIR=str(home / "data"), MODELDECK_MODEL_DIRS=str(home / "models"),
                          MODELDECK_HOST="127.0.0.1")
        await seed(home / "data" / "modeldeck.sqlite3", model_file, count)
        return statistics.median(await time_opens(repeat, count))


def measure_in_fresh_process(count: int, repeat: int) -> float:
    """One NiceGUI app per process: the simulation's globals are not meant to be reused."""
    done = subprocess.run([sys.executable, __file__, "--one", str(count), "--repeat", str(repeat)],
                          capture_output=True, text=True, check=True)
    return float(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--models", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one is not None:
        print(asyncio.run(measure(args.one, args.repeat)))
        return
    empty = measure_in_fresh_process(0, args.repeat)
    full = measure_in_fresh_process(args.models, args.repeat)
    print(f"models page, empty deck:      {empty * 1000:8.1f} ms (median of {args.repeat})")
    print(f"models page, {args.models} models:     {full * 1000:8.1f} ms")
    print(f"per card:                     {(full - empty) / max(args.models, 1) * 1000:8.2f} ms")
    print(f"ratio {args.models} models / empty:   {full / empty:8.1f}x")


if __name__ == "__main__":
    main()
