"""The portal list's sorts by name and by email: a sort key column for each, kept by the service functions, and
an index for each that serves keyset pagination (merchant, key, customer_id) on SQLite and PostgreSQL alike.

The keys are filled here, in Python, by the function the services call (customers.search.customer_sort_keys),
so existing customers sort exactly as new ones.
"""

from django.db import migrations, models

BATCH = 5000


def fill_sort_keys(apps, schema_editor):
    # The function as it is today: if it changes, a later migration refills the columns.
    from customers.search import customer_sort_keys

    connection = schema_editor.connection
    with connection.cursor() as reader, connection.cursor() as writer:
        reader.execute(
            "SELECT customer_id, firstname, lastname, email, company FROM customers_customer ORDER BY customer_id"
        )
        while rows := reader.fetchmany(BATCH):
            writer.executemany(
                "UPDATE customers_customer SET name_key = %s, email_key = %s WHERE customer_id = %s",
                [
                    (
                        *customer_sort_keys(firstname=first, lastname=last, email=email, company=company),
                        customer_id,
                    )
                    for customer_id, first, last, email, company in rows
                ],
            )


class Migration(migrations.Migration):
    dependencies = [
        ("customers", "0008_customer_profile"),
    ]

    operations = [
        migrations.AddField(
            model_name="customer",
            name="name_key",
            field=models.TextField(default="", editable=False),
        ),
        migrations.AddField(
            model_name="customer",
            name="email_key",
            field=models.TextField(default="1", editable=False),
        ),
        migrations.RunPython(fill_sort_keys, migrations.RunPython.noop, elidable=True),
        migrations.AddIndex(
            model_name="customer",
            index=models.Index(fields=["merchant", "name_key", "customer_id"], name="customer_merchant_name"),
        ),
        migrations.AddIndex(
            model_name="customer",
            index=models.Index(fields=["merchant", "email_key", "customer_id"], name="customer_merchant_email_order"),
        ),
    ]
