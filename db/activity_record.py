"""One row per gateway request: who asked which model what, how it went, and what it cost."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from tortoise import fields
from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.models import Model


class ActivityRecord(Model):
    id = fields.IntField(primary_key=True)
    at = fields.DatetimeField(db_index=True)  # when the request arrived
    key_name = fields.CharField(max_length=64)  # the API key's name, or "local"
    model = fields.CharField(max_length=64)  # as the request named it (an alias, or a name nobody has)
    uid = fields.CharField(max_length=32, null=True)  # the configuration it reached
    route = fields.CharField(max_length=128)
    status = fields.IntField()  # the HTTP status the client got (499: the client went away)
    prompt_tokens = fields.IntField(null=True)
    completion_tokens = fields.IntField(null=True)
    cached_tokens = fields.IntField(null=True)
    ttft_ms = fields.FloatField(null=True)  # time to the first streamed chunk
    duration_ms = fields.FloatField()
    tokens_per_second = fields.FloatField(null=True)  # generation speed, as llama-server measured it
    error = fields.TextField(null=True)

    class Meta:
        table = "gateway_request"


ActivityRow = tuple[datetime, str, str, str | None, str, int, int | None, int | None, int | None, float | None, float,
                    float | None, str | None]
COLUMNS = ("at", "key_name", "model", "uid", "route", "status", "prompt_tokens", "completion_tokens", "cached_tokens",
           "ttft_ms", "duration_ms", "tokens_per_second", "error")
_INSERT = f"INSERT INTO gateway_request ({', '.join(COLUMNS)}) VALUES ({', '.join('?' for _ in COLUMNS)})"


async def insert_activity(connection: BaseDBAsyncClient, rows: Sequence[ActivityRow]) -> None:
    if rows:
        await connection.execute_many(_INSERT, [[str(row[0]), *row[1:]] for row in rows])
