"""What the last scan learnt about each GGUF file, so a re-scan reads only files that changed.

A row is valid while the file keeps the same size and modification time (ns); `info` holds the
file's description as JSON, or `error` the reason it was refused.
"""

from __future__ import annotations

from typing import Any

from tortoise import fields
from tortoise.models import Model


class GgufFileRecord(Model):
    id = fields.IntField(primary_key=True)
    path = fields.CharField(max_length=4096, unique=True)
    size = fields.BigIntField()
    mtime_ns = fields.BigIntField()
    info: Any = fields.JSONField(null=True)
    error = fields.TextField(null=True)
    scanned_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "gguf_file"
