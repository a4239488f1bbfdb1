from tortoise import migrations
from tortoise.migrations import operations as ops
from protocol.role import Role
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('models', '0003_metric_samples')]

    initial = False

    operations = [
        ops.CreateModel(
            name='AuditRecord',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('at', fields.DatetimeField(db_index=True, auto_now=False, auto_now_add=True)),
                ('actor', fields.CharField(max_length=64)),
                ('action', fields.CharField(max_length=32)),
                ('target', fields.CharField(default='', max_length=128)),
                ('detail', fields.TextField(default='', unique=False)),
                ('address', fields.CharField(null=True, max_length=64)),
            ],
            options={'table': 'audit_log', 'app': 'models', 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='UserRecord',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('name', fields.CharField(unique=True, max_length=32)),
                ('password_hash', fields.CharField(max_length=256)),
                ('role', fields.CharEnumField(default=Role.VIEWER, description='ADMIN: admin\nVIEWER: viewer', enum_type=Role, max_length=6)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
            ],
            options={'table': 'user_account', 'app': 'models', 'pk_attr': 'id'},
            bases=['Model'],
        ),
    ]
