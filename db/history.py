"""Chart series from the sample tables: averages over equal time buckets, oldest first."""

from __future__ import annotations

from datetime import datetime

from tortoise import connections

# Percentages of the host's capacity, so one chart holds them all; None where a figure was not sampled.
HOST_SERIES = {
    "CPU %": "avg(cpu_percent)",
    "RAM %": "avg(ram_used_bytes * 100.0 / ram_total_bytes)",
    "GPU %": "avg(gpu_percent)",
    "VRAM %": "avg(vram_used_bytes * 100.0 / nullif(vram_total_bytes, 0))",
}
MODEL_SERIES = {
    "tokens/s": "avg(tokens_per_second)",
    "prompt tokens/s": "avg(prompt_tokens_per_second)",
    "requests": "avg(requests_processing)",
}

Series = dict[str, list[tuple[int, float | None]]]  # name -> [(epoch milliseconds, value)]


async def _bucketed(table: str, series: dict[str, str], since: datetime, bucket_s: int, uid: str | None) -> Series:
    # strftime('%s') reads the "YYYY-MM-DD HH:MM:SS" head of the stored UTC text as epoch seconds.
    bucket = f"CAST(strftime('%s', substr(at, 1, 19)) AS INTEGER) / {int(bucket_s)}"
    selected = ", ".join(f"{sql} AS s{index}" for index, sql in enumerate(series.values()))
    where = "at >= ?" + ("" if uid is None else " AND uid = ?")
    values: list[object] = [str(since)]
    if uid is not None:
        values.append(uid)
    rows = await connections.get("default").execute_query_dict(
        f"SELECT {bucket} AS bucket, {selected} FROM {table} WHERE {where} GROUP BY bucket ORDER BY bucket", values)
    return {name: [(row["bucket"] * bucket_s * 1000, row[f"s{index}"]) for row in rows]
            for index, name in enumerate(series)}


async def host_series(since: datetime, bucket_s: int) -> Series:
    return await _bucketed("host_sample", HOST_SERIES, since, bucket_s, None)


async def model_series(uid: str, since: datetime, bucket_s: int) -> Series:
    return await _bucketed("metric_sample", MODEL_SERIES, since, bucket_s, uid)
