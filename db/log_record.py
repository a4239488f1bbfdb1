"""Log lines of each model, persisted in batches and bounded by count per model and by age."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from tortoise import fields
from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.models import Model


class LogRecord(Model):
    id = fields.IntField(primary_key=True)
    uid = fields.CharField(max_length=32)
    at = fields.DatetimeField()
    level = fields.CharField(max_length=1)
    text = fields.TextField()

    class Meta:
        table = "log_line"
        indexes = (("uid", "at"),)


LogRow = tuple[str, datetime, str, str]
_INSERT = "INSERT INTO log_line (uid, at, level, text) VALUES (?, ?, ?, ?)"


async def insert_log_lines(connection: BaseDBAsyncClient, rows: Sequence[LogRow]) -> None:
    if rows:
        await connection.execute_many(_INSERT, [[uid, str(at), level, text] for uid, at, level, text in rows])
