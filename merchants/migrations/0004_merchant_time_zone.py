from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("merchants", "0003_credential_scope_and_rotation"),
    ]

    operations = [
        migrations.AddField(
            model_name="merchant",
            name="time_zone",
            field=models.CharField(default="UTC", max_length=64),
        ),
    ]
