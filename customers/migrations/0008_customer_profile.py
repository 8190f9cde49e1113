"""The whole profile: phone (E.164), the address's parts, the merchant's own reference (unique per merchant).

`search_text` now holds the phone's digits and the reference too; it is refilled here by the
same function the services call (customers/search.py), so every customer is found the same way.
"""

from django.db import migrations, models

BATCH = 5000


def refill_search_text(apps, schema_editor):
    # The function as it is today: if it changes, a later migration refills the column.
    from customers.search import customer_search_text

    connection = schema_editor.connection
    with connection.cursor() as reader, connection.cursor() as writer:
        reader.execute(
            "SELECT customer_id, firstname, lastname, email, company, phone, reference"
            " FROM customers_customer ORDER BY customer_id"
        )
        while rows := reader.fetchmany(BATCH):
            writer.executemany(
                "UPDATE customers_customer SET search_text = %s WHERE customer_id = %s",
                [
                    (
                        customer_search_text(
                            firstname=first, lastname=last, email=email, company=company, phone=phone, reference=ref
                        ),
                        customer_id,
                    )
                    for customer_id, first, last, email, company, phone, ref in rows
                ],
            )


class Migration(migrations.Migration):

    dependencies = [
        ('customers', '0007_customer_search'),
        ('merchants', '0002_membership_invitations'),
    ]

    operations = [
        migrations.AddField(
            model_name='customer',
            name='address_city',
            field=models.CharField(blank=True, max_length=100, null=True),
        ),
        migrations.AddField(
            model_name='customer',
            name='address_line1',
            field=models.CharField(blank=True, max_length=200, null=True),
        ),
        migrations.AddField(
            model_name='customer',
            name='address_line2',
            field=models.CharField(blank=True, max_length=200, null=True),
        ),
        migrations.AddField(
            model_name='customer',
            name='address_postal_code',
            field=models.CharField(blank=True, max_length=20, null=True),
        ),
        migrations.AddField(
            model_name='customer',
            name='address_region',
            field=models.CharField(blank=True, help_text='Region code where one exists', max_length=100, null=True),
        ),
        migrations.AddField(
            model_name='customer',
            name='phone',
            field=models.CharField(blank=True, help_text='E.164, e.g. +442071838750', max_length=16, null=True),
        ),
        migrations.AddField(
            model_name='customer',
            name='reference',
            field=models.CharField(blank=True, help_text="The merchant's own id for the customer, unique per merchant", max_length=128, null=True),
        ),
        migrations.AddConstraint(
            model_name='customer',
            constraint=models.UniqueConstraint(condition=models.Q(('reference__isnull', False)), fields=('merchant', 'reference'), name='customer_merchant_reference'),
        ),
        migrations.RunPython(refill_search_text, migrations.RunPython.noop, elidable=True),
    ]
