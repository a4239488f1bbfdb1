from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('models', '0002_gguf_file_cache')]

    initial = False

    operations = [
        ops.CreateModel(
            name='MetricRecord',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('uid', fields.CharField(max_length=32)),
                ('at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('tokens_per_second', fields.FloatField(null=True)),
                ('prompt_tokens_per_second', fields.FloatField(null=True)),
                ('requests_processing', fields.IntField(null=True)),
                ('busy_slots', fields.IntField(null=True)),
                ('tokens_predicted_total', fields.BigIntField(null=True)),
                ('rss_bytes', fields.BigIntField(null=True)),
                ('cpu_percent', fields.FloatField(null=True)),
                ('vram_bytes', fields.BigIntField(null=True)),
            ],
            options={'table': 'metric_sample', 'app': 'models', 'indexes': [Index(fields=['uid', 'at'])], 'pk_attr': 'id'},
            bases=['Model'],
        ),
    ]
