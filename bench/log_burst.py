"""Log burst: one model printing 10,000 lines a second while a browser has the logs page open.
Measures the event loop's lag (p50, p99, max) during the burst, the lines on screen and the lines
persisted.

The lines arrive as the runner sends them (JSON frames of 200 lines every 75 ms, built before the
burst: producing them is the runner's work), are parsed and
applied to the deck like the live feed does, and written to a real SQLite file in the journal's batches;
the page is a NiceGUI user simulation of /logs.

    .venv/bin/python bench/log_burst.py [--lines-per-second 10000] [--seconds 10]
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from nicegui import ui  # noqa: E402
from nicegui.testing import user_simulation  # noqa: E402

from auth.gate import Gate  # noqa: E402
from db.database import open_database  # noqa: E402
from db.log_record import LogRecord  # noqa: E402
from db.model_record import ModelRecord  # noqa: E402
from protocol import ModelConfig  # noqa: E402
from protocol.messages import LogEvent, LogLine, parse_event  # noqa: E402
from settings import Settings  # noqa: E402
from store.deck import ModelDeck  # noqa: E402
from ui.components.log_tail import LogTail  # noqa: E402
from ui.pages import logs  # noqa: E402
from ui.services import Services  # noqa: E402

FRAME_LINES = 200  # as runner.supervisor batches them
TICK_S = 0.075


def frames_for_one_tick(uid: str, lines: int, seq: int) -> list[str]:
    now = datetime.now(UTC)
    text = "slot update_slots: id  0 | task 42 | prompt processing progress, n_past = 128, n_tokens = 64"
    batch = [LogLine(at=now, level="I", text=f"{text} #{seq}-{n}") for n in range(lines)]
    return [LogEvent(seq=seq, uid=uid, lines=batch[start:start + FRAME_LINES]).model_dump_json()
            for start in range(0, lines, FRAME_LINES)]


async def loop_lag(stop: asyncio.Event, lags: list[float], period: float = 0.005) -> None:
    while not stop.is_set():
        began = time.perf_counter()
        await asyncio.sleep(period)
        lags.append(time.perf_counter() - began - period)


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * share))]


async def run(lines_per_second: int, seconds: float) -> None:
    with tempfile.TemporaryDirectory(prefix="modeldeck-bench-") as tmp:
        async with open_database(Path(tmp) / "bench.sqlite3"):
            config = ModelConfig(name="chatty", model_path="/models/chatty.gguf")
            await ModelRecord.create(**ModelRecord.config_values(config))
            deck = ModelDeck()
            await deck.load()
            writer = asyncio.create_task(deck.journal.write_behind())
            async with user_simulation(root=lambda: ui.label("bench")) as user:
                logs.register(Services(deck=deck, catalog=deck.catalog, gate=Gate(open=True),
                                       settings=Settings()))  # open on loopback: the local admin
                await user.open("/logs")
                [view] = user.find(kind=LogTail, marker="log-view").elements

                idle_lags: list[float] = []
                stop = asyncio.Event()
                ticker = asyncio.create_task(loop_lag(stop, idle_lags))
                await asyncio.sleep(1.0)  # a quiet second for comparison
                stop.set()
                await ticker

                per_tick = int(lines_per_second * TICK_S)
                ticks = int(seconds / TICK_S)
                # Built beforehand: producing the lines is the runner's work (often another machine's).
                frames = [frames_for_one_tick(config.uid, per_tick, seq) for seq in range(ticks)]
                gc.freeze()  # as main.py does once the app has started
                lags: list[float] = []
                stop = asyncio.Event()
                ticker = asyncio.create_task(loop_lag(stop, lags))
                started = time.perf_counter()
                for seq in range(ticks):
                    for frame in frames[seq]:
                        deck.apply(parse_event(frame))
                        await asyncio.sleep(0)  # the feed yields between frames
                    next_tick = started + (seq + 1) * TICK_S
                    await asyncio.sleep(max(0.0, next_tick - time.perf_counter()))  # pacing, as the runner does
                sent_for = time.perf_counter() - started
                stop.set()
                await ticker
                await deck.journal.flush()
                on_screen = len(view.lines)
            writer.cancel()
            await asyncio.gather(writer, return_exceptions=True)
            persisted = await LogRecord.all().count()
    sent = ticks * per_tick
    print(f"burst:              {sent:,} lines in {sent_for:.1f} s ({sent / sent_for:,.0f} lines/s), one model")
    print(f"loop lag, quiet:    p50 {statistics.median(idle_lags) * 1000:.1f} ms, "
          f"p99 {percentile(idle_lags, 0.99) * 1000:.1f} ms")
    print(f"loop lag, burst:    p50 {statistics.median(lags) * 1000:.1f} ms, "
          f"p99 {percentile(lags, 0.99) * 1000:.1f} ms, max {max(lags) * 1000:.1f} ms (goal: p99 under 50 ms)")
    print(f"lines on screen:    {on_screen} (capped at {logs.SCREEN_LINES})")
    print(f"lines persisted:    {persisted:,} (before retention caps them per model)")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--lines-per-second", type=int, default=10_000)
    parser.add_argument("--seconds", type=float, default=10.0)
    args = parser.parse_args()
    asyncio.run(run(args.lines_per_second, args.seconds))


if __name__ == "__main__":
    main()
