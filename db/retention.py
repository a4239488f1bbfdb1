"""Retention SQL: raw samples become 1-minute averages once old, everything goes past a maximum age,
and log lines are capped per model.

Timestamps are stored as Tortoise writes them ("YYYY-MM-DD HH:MM:SS[.ffffff]+00:00", always UTC), so
text comparison orders them and the first 16 characters name their minute.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from tortoise.backends.base.client import BaseDBAsyncClient

_MINUTE = "substr(at, 1, 16)"


@dataclass(frozen=True)
class SampleTable:
    name: str
    key: tuple[str, ...]  # columns that tell one series from another (the model's uid)
    aggregates: tuple[tuple[str, str], ...]  # (column, SQL aggregate of it over a minute)


def _mean(column: str) -> str:
    return f"avg({column})"


def _whole_mean(column: str) -> str:
    return f"CAST(round(avg({column})) AS INTEGER)"


def _highest(column: str) -> str:
    return f"max({column})"


METRIC_SAMPLES = SampleTable("metric_sample", ("uid",), (
    ("tokens_per_second", _mean("tokens_per_second")),
    ("prompt_tokens_per_second", _mean("prompt_tokens_per_second")),
    ("requests_processing", _whole_mean("requests_processing")),
    ("busy_slots", _whole_mean("busy_slots")),
    ("tokens_predicted_total", _highest("tokens_predicted_total")),  # a counter: its latest value
    ("rss_bytes", _whole_mean("rss_bytes")),
    ("cpu_percent", _mean("cpu_percent")),
    ("vram_bytes", _whole_mean("vram_bytes")),
))
HOST_SAMPLES = SampleTable("host_sample", (), (
    ("cpu_percent", _mean("cpu_percent")),
    ("ram_used_bytes", _whole_mean("ram_used_bytes")),
    ("ram_total_bytes", _highest("ram_total_bytes")),
    ("disk_used_bytes", _whole_mean("disk_used_bytes")),
    ("disk_total_bytes", _highest("disk_total_bytes")),
    ("gpu_percent", _mean("gpu_percent")),
    ("vram_used_bytes", _whole_mean("vram_used_bytes")),
    ("vram_total_bytes", _highest("vram_total_bytes")),
    ("gpu_temperature_c", _mean("gpu_temperature_c")),
    ("gpu_power_watts", _mean("gpu_power_watts")),
))


async def downsample(connection: BaseDBAsyncClient, table: SampleTable, before: datetime,
                     since: datetime | None = None) -> int:
    """Replace the samples of each minute in [since, before) by one averaged row; returns rows removed.

    `before` and `since` should fall on whole minutes, so that no minute is averaged twice. A minute
    already down to one row is left alone, which makes a second run over the same range a no-op.
    """
    where = "at < ?" + ("" if since is None else " AND at >= ?")
    bounds = [str(before)] + ([] if since is None else [str(since)])
    group = ", ".join((*table.key, _MINUTE))
    columns = ", ".join((*table.key, "at", *(column for column, _ in table.aggregates)))
    values = ", ".join((*table.key, f"{_MINUTE} || ':00+00:00'", *(sql for _, sql in table.aggregates)))
    rows = await connection.execute_query_dict(f"SELECT coalesce(max(id), 0) AS top FROM {table.name}")
    top = rows[0]["top"]
    await connection.execute_query(
        f"INSERT INTO {table.name} ({columns}) SELECT {values} FROM {table.name} "
        f"WHERE {where} GROUP BY {group} HAVING count(*) > 1", bounds)
    # The raw rows of every minute that just got its average (ids above `top` are the averages).
    removed, _ = await connection.execute_query(
        f"DELETE FROM {table.name} WHERE id <= ? AND {where} AND ({group}) IN "
        f"(SELECT {group} FROM {table.name} WHERE id > ?)", [top, *bounds, top])
    return int(removed)


async def delete_older(connection: BaseDBAsyncClient, table: str, before: datetime) -> int:
    removed, _ = await connection.execute_query(f"DELETE FROM {table} WHERE at < ?", [str(before)])
    return int(removed)


async def cap_log_lines(connection: BaseDBAsyncClient, per_model: int) -> int:
    """Keep the newest `per_model` lines of each model."""
    removed, _ = await connection.execute_query(
        "DELETE FROM log_line WHERE id IN (SELECT id FROM (SELECT id, row_number() OVER "
        "(PARTITION BY uid ORDER BY id DESC) AS newer FROM log_line) WHERE newer > ?)", [per_model])
    return int(removed)
