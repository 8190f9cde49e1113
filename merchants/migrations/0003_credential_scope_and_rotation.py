"""API clients: read-only or read-write access, when a token was last issued, and a rolled secret's grace period.

Existing clients become read-write (what their tokens could always do), so nothing breaks.
"""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('merchants', '0002_membership_invitations'),
    ]

    operations = [
        migrations.AddField(
            model_name='oauthclient',
            name='allowed_scopes',
            field=models.CharField(choices=[('customers:read customers:write', 'Read and write'), ('customers:read', 'Read only')], default='customers:read customers:write', editable=False, max_length=255, verbose_name='access'),
        ),
        migrations.AddField(
            model_name='oauthclient',
            name='last_used_at',
            field=models.DateTimeField(blank=True, editable=False, null=True, verbose_name='last token issued'),
        ),
        migrations.AddField(
            model_name='oauthclient',
            name='previous_client_secret',
            field=models.CharField(blank=True, default='', editable=False, max_length=255),
        ),
        migrations.AddField(
            model_name='oauthclient',
            name='previous_secret_expires_at',
            field=models.DateTimeField(blank=True, editable=False, null=True),
        ),
    ]
