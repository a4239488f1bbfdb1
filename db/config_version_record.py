"""Every version of every configuration: who changed what, when, and the settings it had afterwards."""

from __future__ import annotations

from typing import Any

from tortoise import fields
from tortoise.models import Model

from protocol.versions import VersionAction


class ConfigVersionRecord(Model):
    id = fields.IntField(primary_key=True)
    uid = fields.CharField(max_length=32, db_index=True)  # the configuration's identity (a rename keeps it)
    number = fields.IntField()  # 1, 2, 3... per configuration
    at = fields.DatetimeField(auto_now_add=True)
    actor = fields.CharField(max_length=64)
    action = fields.CharEnumField(VersionAction)
    settings: Any = fields.JSONField()  # ModelConfig.settings() after this change: what a restore brings back
    changes: Any = fields.JSONField(default=dict)  # field -> [old, new]; empty for a created one
    restored_from = fields.IntField(null=True)  # the version a restore brought back

    class Meta:
        table = "config_version"
        unique_together = (("uid", "number"),)
