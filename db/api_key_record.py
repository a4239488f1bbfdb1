"""API keys for apps (the gateway, the management API): a name, a SHA-256 digest, scopes, models, expiry."""

from __future__ import annotations

from typing import Any

from tortoise import fields
from tortoise.models import Model


class ApiKeyRecord(Model):
    id = fields.IntField(primary_key=True)
    name = fields.CharField(max_length=64)
    digest = fields.CharField(max_length=64, unique=True)  # hex SHA-256 of the key; the key itself is never kept
    prefix = fields.CharField(max_length=16)  # the key's first characters, to tell keys apart on the page
    scopes: Any = fields.JSONField(default=list)  # "inference", "manage"
    model_uids: Any = fields.JSONField(null=True)  # None: every model
    expires_at = fields.DatetimeField(null=True)
    created_by = fields.CharField(max_length=64)
    created_at = fields.DatetimeField(auto_now_add=True)
    revoked_at = fields.DatetimeField(null=True)

    class Meta:
        table = "api_key"
