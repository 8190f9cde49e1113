"""Memberships become pending invitations until accepted (security report, items 2 and 3).

Existing memberships of accounts that have a password are marked accepted as of
when they were made. Memberships of accounts that never set a password (people
invited by the old portal who never used their set-password link) stay pending,
without a link: their merchant's admins issue a new one from the staff page.
Leaving them accepted would let another merchant's invitation link set that
account's password and so reach those memberships.
"""

import django.utils.timezone
from django.contrib.auth.hashers import UNUSABLE_PASSWORD_PREFIX
from django.db import migrations, models
from django.db.models import F


def accept_existing_memberships(apps, schema_editor):
    Membership = apps.get_model("merchants", "MerchantMembership")
    (
        Membership.objects.filter(accepted_at__isnull=True)
        .exclude(user__password__startswith=UNUSABLE_PASSWORD_PREFIX)
        .update(accepted_at=F("created_at"))
    )


class Migration(migrations.Migration):

    dependencies = [
        ("merchants", "0001_initial"),
    ]

    operations = [
        # Null first, without a default, so the data step below decides every existing row.
        migrations.AddField(
            model_name="merchantmembership",
            name="accepted_at",
            field=models.DateTimeField(blank=True, editable=False, null=True),
        ),
        migrations.AddField(
            model_name="merchantmembership",
            name="invitation_issued_at",
            field=models.DateTimeField(blank=True, editable=False, null=True),
        ),
        migrations.AddField(
            model_name="merchantmembership",
            name="invitation_token_hash",
            field=models.CharField(blank=True, default="", editable=False, max_length=64),
        ),
        migrations.AddField(
            model_name="merchantmembership",
            name="invited_email",
            field=models.CharField(blank=True, default="", editable=False, max_length=254),
        ),
        migrations.RunPython(accept_existing_memberships, migrations.RunPython.noop),
        # Memberships made from now on outside the invitation flow (operators) are accepted when made.
        migrations.AlterField(
            model_name="merchantmembership",
            name="accepted_at",
            field=models.DateTimeField(blank=True, default=django.utils.timezone.now, editable=False, null=True),
        ),
    ]
