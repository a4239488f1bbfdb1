"""Live figures of each model as sampled by the runner, written in batches."""

from __future__ import annotations

from tortoise import fields
from tortoise.models import Model


class MetricRecord(Model):
    id = fields.IntField(primary_key=True)
    uid = fields.CharField(max_length=32, db_index=True)
    at = fields.DatetimeField(db_index=True)
    tokens_per_second = fields.FloatField(null=True)
    prompt_tokens_per_second = fields.FloatField(null=True)
    requests_processing = fields.IntField(null=True)
    busy_slots = fields.IntField(null=True)
    tokens_predicted_total = fields.BigIntField(null=True)
    rss_bytes = fields.BigIntField(null=True)
    cpu_percent = fields.FloatField(null=True)
    vram_bytes = fields.BigIntField(null=True)

    class Meta:
        table = "metric_sample"
