from tortoise import migrations
from tortoise.migrations import operations as ops
from orjson import loads
from protocol.config import RestartPolicy
from protocol.status import ModelStatus
from tortoise.fields.data import JSON_DUMPS
from tortoise import fields

class Migration(migrations.Migration):
    initial = True

    operations = [
        ops.CreateModel(
            name='ModelRecord',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('uid', fields.CharField(unique=True, max_length=32)),
                ('name', fields.CharField(unique=True, max_length=64)),
                ('model_path', fields.CharField(max_length=4096)),
                ('family', fields.CharField(default='', max_length=64)),
                ('port', fields.IntField(null=True)),
                ('ctx_size', fields.IntField(default=4096)),
                ('gpu_layers', fields.IntField(default=0)),
                ('threads', fields.IntField(null=True)),
                ('batch_size', fields.IntField(default=2048)),
                ('parallel', fields.IntField(default=1)),
                ('flash_attn', fields.BooleanField(default=False)),
                ('cache_type_k', fields.CharField(default='f16', max_length=16)),
                ('cache_type_v', fields.CharField(default='f16', max_length=16)),
                ('extra_args', fields.JSONField(default=list, encoder=JSON_DUMPS, decoder=loads)),
                ('env', fields.JSONField(default=dict, encoder=JSON_DUMPS, decoder=loads)),
                ('autostart', fields.BooleanField(default=False)),
                ('restart_policy', fields.CharEnumField(default=RestartPolicy.NEVER, description='NEVER: never\nON_FAILURE: on-failure', enum_type=RestartPolicy, max_length=10)),
                ('restart_limit', fields.IntField(default=3)),
                ('notes', fields.TextField(default='', unique=False)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
                ('status', fields.CharEnumField(default=ModelStatus.STOPPED, description='STOPPED: stopped\nSTARTING: starting\nRUNNING: running\nSTOPPING: stopping\nERROR: error', enum_type=ModelStatus, max_length=8)),
                ('exit_code', fields.IntField(null=True)),
                ('reason', fields.TextField(null=True, unique=False)),
                ('last_lines', fields.JSONField(default=list, encoder=JSON_DUMPS, decoder=loads)),
            ],
            options={'table': 'model_config', 'app': 'models', 'pk_attr': 'id'},
            bases=['Model'],
        ),
    ]
