"""Accounts that may sign in when ModelDeck listens on the LAN: a name, an argon2 hash, a role."""

from __future__ import annotations

from tortoise import fields
from tortoise.models import Model

from protocol.role import Role


class UserRecord(Model):
    id = fields.IntField(primary_key=True)
    name = fields.CharField(max_length=32, unique=True)  # lower case, checked by auth.accounts
    password_hash = fields.CharField(max_length=256)
    role = fields.CharEnumField(Role, default=Role.VIEWER)
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "user_account"
