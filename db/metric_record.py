"""Live figures of each model as sampled by the runner, written in batches."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from tortoise import fields
from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.models import Model


class MetricRecord(Model):
    id = fields.IntField(primary_key=True)
    uid = fields.CharField(max_length=32)
    at = fields.DatetimeField()
    tokens_per_second = fields.FloatField(null=True)
    prompt_tokens_per_second = fields.FloatField(null=True)
    requests_processing = fields.IntField(null=True)
    busy_slots = fields.IntField(null=True)
    tokens_predicted_total = fields.BigIntField(null=True)
    rss_bytes = fields.BigIntField(null=True)
    cpu_percent = fields.FloatField(null=True)
    vram_bytes = fields.BigIntField(null=True)

    class Meta:
        table = "metric_sample"
        indexes = (("uid", "at"),)  # history is read per model and time range; one index keeps inserts cheap


SAMPLE_COLUMNS = ("uid", "at", "tokens_per_second", "prompt_tokens_per_second", "requests_processing", "busy_slots",
                  "tokens_predicted_total", "rss_bytes", "cpu_percent", "vram_bytes")
SampleRow = tuple[str, datetime, float | None, float | None, int | None, int | None, int | None, int | None,
                  float | None, int | None]
_INSERT = (f"INSERT INTO metric_sample ({', '.join(SAMPLE_COLUMNS)}) "
           f"VALUES ({', '.join('?' for _ in SAMPLE_COLUMNS)})")


async def insert_samples(connection: BaseDBAsyncClient, rows: Sequence[SampleRow]) -> None:
    """Many samples in one statement: building an ORM object per row costs more than the write itself."""
    # str(datetime) is the "YYYY-MM-DD HH:MM:SS.ffffff+00:00" form Tortoise itself stores and reads back.
    if rows:
        await connection.execute_many(_INSERT, [[row[0], str(row[1]), *row[2:]] for row in rows])
