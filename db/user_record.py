"""Accounts that may sign in when ModelDeck listens on the LAN: a name, an argon2 hash, a role."""

from __future__ import annotations

from enum import StrEnum

from tortoise import fields
from tortoise.models import Model


class Role(StrEnum):
    ADMIN = "admin"  # everything
    VIEWER = "viewer"  # sees everything, changes nothing (a tablet on the wall)


class UserRecord(Model):
    id = fields.IntField(primary_key=True)
    name = fields.CharField(max_length=32, unique=True)  # lower case, checked by auth.accounts
    password_hash = fields.CharField(max_length=256)
    role = fields.CharEnumField(Role, default=Role.VIEWER)
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "user_account"
