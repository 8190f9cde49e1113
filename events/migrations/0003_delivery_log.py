"""The `ping` test event, and an index for each webhook endpoint's delivery log (newest first).

The new index (endpoint, -id) is built before the foreign key's own index on endpoint is dropped:
it starts with the same column, so every lookup by endpoint keeps an index throughout.
"""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('events', '0002_delivery_lease'),
    ]

    operations = [
        migrations.AlterField(
            model_name='customerevent',
            name='type',
            field=models.CharField(choices=[('customer.created', 'Created'), ('customer.updated', 'Updated'), ('customer.deleted', 'Deleted'), ('ping', 'Ping')], max_length=32),
        ),
        migrations.AddIndex(
            model_name='eventdelivery',
            index=models.Index(fields=['endpoint', '-id'], name='delivery_endpoint_recent'),
        ),
        migrations.AlterField(
            model_name='eventdelivery',
            name='endpoint',
            field=models.ForeignKey(blank=True, db_index=False, null=True, on_delete=django.db.models.deletion.CASCADE, related_name='deliveries', to='events.webhookendpoint'),
        ),
    ]
