"""The stored model configuration, with the last known status; field names match protocol.ModelConfig."""

from __future__ import annotations

from typing import Any

from tortoise import fields
from tortoise.models import Model

from protocol import ModelConfig, ModelStatus, RestartPolicy


class ModelRecord(Model):
    id = fields.IntField(primary_key=True)
    uid = fields.CharField(max_length=32, unique=True)
    name = fields.CharField(max_length=64, unique=True)
    model_path = fields.CharField(max_length=4096)
    family = fields.CharField(max_length=64, default="")
    port = fields.IntField(null=True)
    ctx_size = fields.IntField(default=4096)
    gpu_layers = fields.IntField(default=0)
    threads = fields.IntField(null=True)
    batch_size = fields.IntField(default=2048)
    parallel = fields.IntField(default=1)
    flash_attn = fields.BooleanField(default=False)
    cache_type_k = fields.CharField(max_length=16, default="f16")
    cache_type_v = fields.CharField(max_length=16, default="f16")
    aliases: Any = fields.JSONField(default=list, db_default="[]")  # rows from before aliases get none
    extra_args: Any = fields.JSONField(default=list)
    env: Any = fields.JSONField(default=dict)
    autostart = fields.BooleanField(default=False)
    unload_when_idle_s = fields.IntField(null=True)
    restart_policy = fields.CharEnumField(RestartPolicy, default=RestartPolicy.NEVER)
    restart_limit = fields.IntField(default=3)
    notes = fields.TextField(default="")
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)
    # The last status seen, so a restart of the app shows what was true when it stopped.
    status = fields.CharEnumField(ModelStatus, default=ModelStatus.STOPPED)
    exit_code = fields.IntField(null=True)
    reason = fields.TextField(null=True)
    last_lines: Any = fields.JSONField(default=list)

    class Meta:
        table = "model_config"

    def to_config(self) -> ModelConfig:
        return ModelConfig.model_validate({name: getattr(self, name) for name in ModelConfig.model_fields})

    @staticmethod
    def config_values(config: ModelConfig) -> dict[str, Any]:
        """Column values for a config; the timestamps are the database's to set."""
        return config.model_dump(exclude={"created_at", "updated_at"})
