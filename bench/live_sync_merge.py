"""Live-sync merge: events per second into the deck and SQLite, batched vs one transaction per event,
and the latency from a runner publishing an event to the store showing it (p50, p99).

Real SQLite file, real embedded runner and WebSocket on loopback for the latency part; the events
themselves are synthetic metrics samples (a real llama-server gives one per second, too few to time).

    .venv/bin/python bench/live_sync_merge.py [--events 20000] [--models 10]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from functools import partial
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from db.database import open_database  # noqa: E402
from db.metric_record import MetricRecord  # noqa: E402
from db.model_record import ModelRecord  # noqa: E402
from protocol import ModelConfig, ModelStatus  # noqa: E402
from protocol.link import LinkState  # noqa: E402
from protocol.messages import Event, MetricsEvent, MetricsSample, ProcessState, StatusEvent  # noqa: E402
from runner.embedded import start_embedded_runner  # noqa: E402
from store.deck import ModelDeck  # noqa: E402
from store.journal import Journal  # noqa: E402
from store.runner_link import linked_runner  # noqa: E402
from tests.waiting import until  # noqa: E402

LIFECYCLE = (ModelStatus.STARTING, ModelStatus.RUNNING, ModelStatus.STOPPING, ModelStatus.STOPPED)


def synthetic_events(uids: list[str], count: int) -> list[Event]:
    """Mostly metrics, a status change every 50 events (a model's whole lifecycle), as a busy runner would send."""
    events: list[Event] = []
    for seq in range(1, count + 1):
        uid = uids[seq % len(uids)]
        if seq % 50 == 0:
            status = LIFECYCLE[(seq // 50 - 1) % len(LIFECYCLE)]
            events.append(StatusEvent(seq=seq, process=ProcessState(uid=uid, name=uid, status=status)))
        else:
            sample = MetricsSample(at=datetime.now(UTC), tokens_per_second=float(seq % 97), rss_bytes=seq)
            events.append(MetricsEvent(seq=seq, uid=uid, sample=sample))
    return events


def metrics_event(uid: str, sample: MetricsSample, seq: int) -> MetricsEvent:
    return MetricsEvent(seq=seq, uid=uid, sample=sample)


async def seed(models: int) -> None:
    for index in range(models):
        config = ModelConfig(name=f"m{index}", model_path="/models/m.gguf")
        await ModelRecord.create(**ModelRecord.config_values(config))


async def loaded_deck(journal: Journal | None = None) -> ModelDeck:
    deck = ModelDeck(journal=journal)
    await deck.load()
    return deck


async def merge_batched(deck: ModelDeck, events: list[Event]) -> float:
    writer = asyncio.create_task(deck.journal.write_behind())
    started = time.perf_counter()
    for index, event in enumerate(events):
        deck.apply(event)
        if index % 500 == 0:
            await asyncio.sleep(0)  # as the feed does between frames: the loop stays free
    await deck.journal.flush()  # waits for a batch in flight, then writes the rest
    elapsed = time.perf_counter() - started
    writer.cancel()
    await asyncio.gather(writer, return_exceptions=True)
    return elapsed


async def merge_one_transaction_each(deck: ModelDeck, events: list[Event]) -> float:
    started = time.perf_counter()
    for event in events:
        deck.apply(event)
        await deck.journal.flush()
    return time.perf_counter() - started


async def latency(deck: ModelDeck, uid: str, samples: int) -> list[float]:
    """Publish through the real runner's hub; time until the store holds the value."""
    runner = await start_embedded_runner(allow_build=False)
    seen: dict[float, float] = {}
    try:
        async with linked_runner(deck, runner.url, runner.token):
            def shown(_uid: str, sample: MetricsSample) -> None:
                """The store showed this sample (the monitor hears of every figure the cards get)."""
                if sample.tokens_per_second is not None:
                    seen[sample.tokens_per_second] = time.perf_counter()

            deck.monitor.model_sampled.subscribe(shown)
            await until(lambda: deck.link.state is LinkState.CONNECTED, message="connected to the runner")
            for status in LIFECYCLE[:2]:  # figures are shown for running models
                deck.apply(StatusEvent(seq=0, process=ProcessState(uid=uid, name=uid, status=status)))
            sent: dict[float, float] = {}
            for index in range(samples):
                value = float(index)
                sent[value] = time.perf_counter()
                sample = MetricsSample(at=datetime.now(UTC), tokens_per_second=value)
                runner.supervisor.hub.publish(partial(metrics_event, uid, sample))
                await asyncio.sleep(0.002)
            await until(lambda: len(seen) == samples, message="every event seen")
    finally:
        await runner.close()
    return [seen[v] - sent[v] for v in sent if v in seen]


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=20_000)
    parser.add_argument("--per-event", type=int, default=2_000, help="events for the one-transaction-each run")
    parser.add_argument("--models", type=int, default=10)
    parser.add_argument("--latency-samples", type=int, default=1_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="modeldeck-bench-") as tmp:
        async with open_database(Path(tmp) / "bench.sqlite3"):
            await seed(args.models)
            deck = await loaded_deck(Journal(flush_interval=0.05))
            uids = list(deck.models)
            batched = await merge_batched(deck, synthetic_events(uids, args.events))
            single = await merge_one_transaction_each(await loaded_deck(), synthetic_events(uids, args.per_event))
            rows = await MetricRecord.all().count()
            lags = sorted(await latency(await loaded_deck(), uids[0], args.latency_samples))
    batched_rate = args.events / batched
    single_rate = args.per_event / single
    print(f"batched merge:              {batched_rate:10.0f} events/s ({args.events} events in {batched:.2f} s)")
    print(f"one transaction per event:  {single_rate:10.0f} events/s ({args.per_event} events in {single:.2f} s)")
    print(f"ratio batched / per-event:  {batched_rate / single_rate:10.1f}x")
    print(f"metric rows written:        {rows:10d}")
    p50 = statistics.median(lags) * 1000
    p99 = lags[int(len(lags) * 0.99) - 1] * 1000
    print(f"runner event -> store:      p50 {p50:.2f} ms, p99 {p99:.2f} ms over {len(lags)} events")


if __name__ == "__main__":
    asyncio.run(main())
