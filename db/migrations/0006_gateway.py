from tortoise import migrations
from tortoise.migrations import operations as ops
from orjson import loads
from tortoise.fields.data import JSON_DUMPS
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('models', '0005_monitoring')]

    initial = False

    operations = [
        ops.CreateModel(
            name='ActivityRecord',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('at', fields.DatetimeField(db_index=True, auto_now=False, auto_now_add=False)),
                ('key_name', fields.CharField(max_length=64)),
                ('model', fields.CharField(max_length=64)),
                ('uid', fields.CharField(null=True, max_length=32)),
                ('route', fields.CharField(max_length=128)),
                ('status', fields.IntField()),
                ('prompt_tokens', fields.IntField(null=True)),
                ('completion_tokens', fields.IntField(null=True)),
                ('cached_tokens', fields.IntField(null=True)),
                ('ttft_ms', fields.FloatField(null=True)),
                ('duration_ms', fields.FloatField()),
                ('tokens_per_second', fields.FloatField(null=True)),
                ('error', fields.TextField(null=True, unique=False)),
            ],
            options={'table': 'gateway_request', 'app': 'models', 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='ApiKeyRecord',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('name', fields.CharField(max_length=64)),
                ('digest', fields.CharField(unique=True, max_length=64)),
                ('prefix', fields.CharField(max_length=16)),
                ('scopes', fields.JSONField(default=list, encoder=JSON_DUMPS, decoder=loads)),
                ('model_uids', fields.JSONField(null=True, encoder=JSON_DUMPS, decoder=loads)),
                ('expires_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('created_by', fields.CharField(max_length=64)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('revoked_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'api_key', 'app': 'models', 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.AddField(
            model_name='ModelRecord',
            name='aliases',
            field=fields.JSONField(default=list, db_default='[]', encoder=JSON_DUMPS, decoder=loads),
        ),
    ]
