from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('models', '0007_configuration_history')]

    initial = False

    operations = [
        ops.AddField(
            model_name='ModelRecord',
            name='unload_when_idle_s',
            field=fields.IntField(null=True),
        ),
    ]
