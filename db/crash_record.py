"""One row per time a model's server ended in error: when, exit code, reason and its last lines."""

from __future__ import annotations

from typing import Any

from tortoise import fields
from tortoise.models import Model


class CrashRecord(Model):
    id = fields.IntField(primary_key=True)
    uid = fields.CharField(max_length=32, db_index=True)
    at = fields.DatetimeField()
    exit_code = fields.IntField()
    reason = fields.TextField(null=True)
    last_lines: Any = fields.JSONField(default=list)

    class Meta:
        table = "crash"
