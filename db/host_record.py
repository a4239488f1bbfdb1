"""Host figures as sampled by the runner (one row a second), written in the live-sync batches.

GPUs are folded into one set of columns (mean utilisation, summed memory and power, hottest
temperature): the history charts show the machine, and the per-GPU detail is live on the dashboard.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from tortoise import fields
from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.models import Model


class HostRecord(Model):
    id = fields.IntField(primary_key=True)
    at = fields.DatetimeField(db_index=True)
    cpu_percent = fields.FloatField()
    ram_used_bytes = fields.BigIntField()
    ram_total_bytes = fields.BigIntField()
    disk_used_bytes = fields.BigIntField(null=True)
    disk_total_bytes = fields.BigIntField(null=True)
    gpu_percent = fields.FloatField(null=True)
    vram_used_bytes = fields.BigIntField(null=True)
    vram_total_bytes = fields.BigIntField(null=True)
    gpu_temperature_c = fields.FloatField(null=True)
    gpu_power_watts = fields.FloatField(null=True)

    class Meta:
        table = "host_sample"


HOST_COLUMNS = ("at", "cpu_percent", "ram_used_bytes", "ram_total_bytes", "disk_used_bytes", "disk_total_bytes",
                "gpu_percent", "vram_used_bytes", "vram_total_bytes", "gpu_temperature_c", "gpu_power_watts")
HostRow = tuple[datetime, float, int, int, int | None, int | None, float | None, int | None, int | None,
                float | None, float | None]
_INSERT = f"INSERT INTO host_sample ({', '.join(HOST_COLUMNS)}) VALUES ({', '.join('?' for _ in HOST_COLUMNS)})"


async def insert_host_samples(connection: BaseDBAsyncClient, rows: Sequence[HostRow]) -> None:
    """Many samples in one statement, stored the way Tortoise reads datetimes back (see insert_samples)."""
    if rows:
        await connection.execute_many(_INSERT, [[str(row[0]), *row[1:]] for row in rows])
