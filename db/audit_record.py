"""The audit log: who did what, when. Written in the same transaction as the change it describes."""

from __future__ import annotations

from tortoise import fields
from tortoise.models import Model


class AuditRecord(Model):
    id = fields.IntField(primary_key=True)
    at = fields.DatetimeField(auto_now_add=True, db_index=True)
    actor = fields.CharField(max_length=64)  # an account name, "local" (loopback) or "modeldeck" (itself)
    action = fields.CharField(max_length=32)  # e.g. "model.start", "account.create", "sign-in.failed"
    target = fields.CharField(max_length=128, default="")
    detail = fields.TextField(default="")
    address = fields.CharField(max_length=64, null=True)  # the client's address, for sign-ins

    class Meta:
        table = "audit_log"
