from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("merchants", "0002_membership_invitations"),
    ]

    operations = [
        migrations.AddField(
            model_name="merchant",
            name="time_zone",
            field=models.CharField(default="UTC", max_length=64),
        ),
    ]
