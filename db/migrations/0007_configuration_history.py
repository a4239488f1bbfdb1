from tortoise import migrations
from tortoise.migrations import operations as ops
from orjson import loads
from protocol.versions import VersionAction
from tortoise.fields.data import JSON_DUMPS
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('models', '0006_gateway')]

    initial = False

    operations = [
        ops.CreateModel(
            name='ConfigVersionRecord',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('uid', fields.CharField(db_index=True, max_length=32)),
                ('number', fields.IntField()),
                ('at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('actor', fields.CharField(max_length=64)),
                ('action', fields.CharEnumField(description='BASELINE: baseline\nCREATE: create\nDUPLICATE: duplicate\nEDIT: edit\nRENAME: rename\nIMPORT: import\nRESTORE: restore', enum_type=VersionAction, max_length=9)),
                ('settings', fields.JSONField(encoder=JSON_DUMPS, decoder=loads)),
                ('changes', fields.JSONField(default=dict, encoder=JSON_DUMPS, decoder=loads)),
                ('restored_from', fields.IntField(null=True)),
            ],
            options={'table': 'config_version', 'app': 'models', 'unique_together': (('uid', 'number'),), 'pk_attr': 'id'},
            bases=['Model'],
        ),
    ]
