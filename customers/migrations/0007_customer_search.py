"""Search that the service functions keep: `search_text` and `company_key` on customers, the merchant on custom fields.

The new columns are filled here, in Python, by the same functions the services
call (customers/search.py), so existing customers are found exactly as new ones.
On PostgreSQL the search index needs the pg_trgm and btree_gin extensions (both
in PostgreSQL's contrib): they are created here when the migrating role may do so;
otherwise (some managed databases) a database administrator runs
`CREATE EXTENSION pg_trgm; CREATE EXTENSION btree_gin;` first, and this step sees them.
"""

import django.db.models.deletion
from django.contrib.postgres.operations import BtreeGinExtension, TrigramExtension
from django.db import migrations, models

import core.indexes

BATCH = 5000


def fill_search_columns(apps, schema_editor):
    # The functions as they are today: if they change, a later migration refills the columns.
    from customers.search import customer_search_text, fold

    connection = schema_editor.connection
    with connection.cursor() as reader, connection.cursor() as writer:
        reader.execute(
            "SELECT customer_id, firstname, lastname, email, company FROM customers_customer ORDER BY customer_id"
        )
        while rows := reader.fetchmany(BATCH):
            writer.executemany(
                "UPDATE customers_customer SET search_text = %s, company_key = %s WHERE customer_id = %s",
                [
                    (
                        customer_search_text(firstname=first, lastname=last, email=email, company=company),
                        fold(company) or None,
                        customer_id,
                    )
                    for customer_id, first, last, email, company in rows
                ],
            )


def fill_custom_field_merchant(apps, schema_editor):
    schema_editor.execute(
        "UPDATE customers_customfield SET merchant_id = (SELECT merchant_id FROM customers_customer"
        " WHERE customers_customer.customer_id = customers_customfield.customer_id)"
    )


class Migration(migrations.Migration):
    dependencies = [
        ("customers", "0006_durable_import_jobs"),
        ("merchants", "0002_membership_invitations"),
    ]

    operations = [
        TrigramExtension(),
        BtreeGinExtension(),
        migrations.AddField(
            model_name="customer",
            name="company_key",
            field=models.CharField(editable=False, help_text="company, folded", max_length=255, null=True),
        ),
        migrations.AddField(
            model_name="customer",
            name="search_text",
            field=models.TextField(default="", editable=False),
        ),
        migrations.RunPython(fill_search_columns, migrations.RunPython.noop, elidable=True),
        migrations.AddIndex(
            model_name="customer",
            index=models.Index(fields=["merchant", "company_key"], name="customer_merchant_company"),
        ),
        migrations.AddIndex(
            model_name="customer",
            index=core.indexes.PostgreSQLGinIndex(
                fields=["merchant", "search_text"], opclasses=["uuid_ops", "gin_trgm_ops"], name="customer_search_trgm"
            ),
        ),
        migrations.AddField(
            model_name="customfield",
            name="merchant",
            field=models.ForeignKey(
                db_index=False,
                null=True,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="+",
                to="merchants.merchant",
            ),
        ),
        migrations.RunPython(fill_custom_field_merchant, migrations.RunPython.noop, elidable=True),
        migrations.AlterField(
            model_name="customfield",
            name="merchant",
            field=models.ForeignKey(
                db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name="+", to="merchants.merchant"
            ),
        ),
        migrations.RemoveIndex(model_name="customfield", name="customfield_name_value"),
        migrations.AddIndex(
            model_name="customfield",
            index=models.Index(fields=["merchant", "name", "value"], name="customfield_merchant_value"),
        ),
    ]
