from tortoise import migrations
from tortoise.migrations import operations as ops
from orjson import loads
from tortoise.fields.data import JSON_DUMPS
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('models', '0001_initial')]

    initial = False

    operations = [
        ops.CreateModel(
            name='GgufFileRecord',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('path', fields.CharField(unique=True, max_length=4096)),
                ('size', fields.BigIntField()),
                ('mtime_ns', fields.BigIntField()),
                ('info', fields.JSONField(null=True, encoder=JSON_DUMPS, decoder=loads)),
                ('error', fields.TextField(null=True, unique=False)),
                ('scanned_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
            ],
            options={'table': 'gguf_file', 'app': 'models', 'pk_attr': 'id'},
            bases=['Model'],
        ),
    ]
