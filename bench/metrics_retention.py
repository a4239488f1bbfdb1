"""Metrics history size: 24 simulated hours of 10 models sampled every second, plus the host's
samples, written in journal-sized batches with a retention pass after every simulated hour
(the app runs one every minute; the result is the same). Prints the database size.

Real SQLite file, the app's own insert and retention code; timestamps are synthetic.

    .venv/bin/python bench/metrics_retention.py [--hours 24] [--models 10]
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sqlite3
import sys
import tempfile
import time
from contextlib import closing
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from db.database import open_database  # noqa: E402
from db.host_record import HostRow, insert_host_samples  # noqa: E402
from db.metric_record import SampleRow, insert_samples  # noqa: E402
from db.writes import writing  # noqa: E402
from store.retention import Retention, RetentionPolicy  # noqa: E402

START = datetime(2026, 11, 1, tzinfo=UTC)
GIB = 1024**3


def one_hour(hour: int, uids: list[str], rng: random.Random) -> tuple[list[SampleRow], list[HostRow]]:
    samples: list[SampleRow] = []
    hosts: list[HostRow] = []
    for second in range(3600):
        at = START + timedelta(hours=hour, seconds=second, microseconds=rng.randrange(1_000_000))
        for index, uid in enumerate(uids):
            samples.append((uid, at, rng.uniform(20, 80), rng.uniform(200, 900), rng.randrange(4), rng.randrange(4),
                            hour * 3_600_000 + second * 40 + index, 2 * GIB + rng.randrange(GIB), rng.uniform(0, 400),
                            None))
        hosts.append((at, rng.uniform(0, 100), 30 * GIB + rng.randrange(GIB), 64 * GIB, 400 * GIB, 1000 * GIB,
                      rng.uniform(0, 100), 20 * GIB, 80 * GIB, rng.uniform(40, 80), rng.uniform(100, 300)))
    return samples, hosts


async def simulate(path: Path, hours: int, models: int) -> float:
    """Returns the slowest retention pass in seconds."""
    rng = random.Random(7)
    uids = [f"{index:032x}" for index in range(models)]
    clock = START
    retention = Retention(RetentionPolicy(), clock=lambda: clock)
    spent_retaining = 0.0
    async with open_database(path):
        for hour in range(hours):
            samples, hosts = one_hour(hour, uids, rng)
            for start in range(0, len(hosts), 200):  # a journal flush carries ~0.2 s; here 200 s of samples
                async with writing() as connection:
                    await insert_samples(connection, samples[start * models:(start + 200) * models])
                    await insert_host_samples(connection, hosts[start:start + 200])
            clock = START + timedelta(hours=hour + 1)
            began = time.perf_counter()
            await retention.run_once()
            spent_retaining = max(spent_retaining, time.perf_counter() - began)
    return spent_retaining


def measure(path: Path) -> tuple[int, int, float]:
    with closing(sqlite3.connect(path)) as db:
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        metric_rows = db.execute("SELECT count(*) FROM metric_sample").fetchone()[0]
        host_rows = db.execute("SELECT count(*) FROM host_sample").fetchone()[0]
        file_size = path.stat().st_size
        db.execute("VACUUM")
    return metric_rows, host_rows, file_size / 1024**2


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--hours", type=int, default=24)
    parser.add_argument("--models", type=int, default=10)
    args = parser.parse_args()
    began = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="modeldeck-bench-") as tmp:
        path = Path(tmp) / "bench.sqlite3"
        slowest_pass = asyncio.run(simulate(path, args.hours, args.models))
        metric_rows, host_rows, file_mib = measure(path)
        vacuumed_mib = path.stat().st_size / 1024**2
    written = args.hours * 3600 * (args.models + 1)
    print(f"simulated:            {args.hours} h, {args.models} models + host, {written:,} samples written")
    print(f"rows kept:            {metric_rows:,} model samples, {host_rows:,} host samples "
          f"(1 h raw, older as 1-minute averages)")
    print(f"database size:        {file_mib:.1f} MiB (file), {vacuumed_mib:.1f} MiB after VACUUM")
    print(f"slowest retention pass: {slowest_pass * 1000:.0f} ms (one hour of new samples)")
    print(f"bench time:           {time.perf_counter() - began:.1f} s")


if __name__ == "__main__":
    main()
