from tortoise import migrations
from tortoise.migrations import operations as ops
from orjson import loads
from tortoise.fields.data import JSON_DUMPS
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('models', '0004_accounts_and_audit')]

    initial = False

    operations = [
        ops.CreateModel(
            name='CrashRecord',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('uid', fields.CharField(db_index=True, max_length=32)),
                ('at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('exit_code', fields.IntField()),
                ('reason', fields.TextField(null=True, unique=False)),
                ('last_lines', fields.JSONField(default=list, encoder=JSON_DUMPS, decoder=loads)),
            ],
            options={'table': 'crash', 'app': 'models', 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='HostRecord',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('at', fields.DatetimeField(db_index=True, auto_now=False, auto_now_add=False)),
                ('cpu_percent', fields.FloatField()),
                ('ram_used_bytes', fields.BigIntField()),
                ('ram_total_bytes', fields.BigIntField()),
                ('disk_used_bytes', fields.BigIntField(null=True)),
                ('disk_total_bytes', fields.BigIntField(null=True)),
                ('gpu_percent', fields.FloatField(null=True)),
                ('vram_used_bytes', fields.BigIntField(null=True)),
                ('vram_total_bytes', fields.BigIntField(null=True)),
                ('gpu_temperature_c', fields.FloatField(null=True)),
                ('gpu_power_watts', fields.FloatField(null=True)),
            ],
            options={'table': 'host_sample', 'app': 'models', 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='LogRecord',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('uid', fields.CharField(max_length=32)),
                ('at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('level', fields.CharField(max_length=1)),
                ('text', fields.TextField(unique=False)),
            ],
            options={'table': 'log_line', 'app': 'models', 'indexes': [Index(fields=['uid', 'at'])], 'pk_attr': 'id'},
            bases=['Model'],
        ),
    ]
