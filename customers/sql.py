"""The hand-written query of customers: a customer with its custom fields, read by every retrieve, update, delete.

The ORM's `Customer.objects.filter(merchant=...).prefetch_related(Prefetch("custom_fields",
to_attr="loaded_custom_fields")).get(pk=...)` cost 870-1000 us of CPU per call on the 2-core
benchmark machine, these two statements 260-310 us (`python bench/hot_paths.py`); a retrieve costs
about 1 ms of CPU in all. Built once from model metadata and loaded as the ORM loads rows
(core/sql.py); customers/tests/test_hand_written_sql.py checks the result against the ORM's.
"""

import functools
import uuid

from django.db import connection

from core.sql import column_list, concrete_attnames, fetch_all, model_from_row
from customers.models import Customer, CustomField


@functools.cache
def _customer_get_sql() -> tuple[str, str]:
    q = connection.ops.quote_name
    customer, field = Customer._meta, CustomField._meta
    # Identifiers come from model metadata, quoted by the backend; values are parameters.
    return (
        f"SELECT {column_list(Customer, concrete_attnames(Customer))} FROM {q(customer.db_table)} "  # noqa: S608
        f"WHERE {q(customer.get_field('merchant').column)} = %s AND {q(customer.pk.column)} = %s",
        f"SELECT {column_list(CustomField, concrete_attnames(CustomField))} FROM {q(field.db_table)} "  # noqa: S608
        f"WHERE {q(field.get_field('customer').column)} = %s "
        f"ORDER BY {q(field.get_field('position').column)}, {q(field.pk.column)}",
    )


def customer_with_custom_fields(*, merchant_id: uuid.UUID, customer_id: uuid.UUID) -> Customer | None:
    """The merchant's customer with `loaded_custom_fields` in order; None when the merchant has none with this id."""
    customer_sql, fields_sql = _customer_get_sql()
    pk = Customer._meta.pk.get_db_prep_value(customer_id, connection)
    merchant = Customer._meta.get_field("merchant").get_db_prep_value(merchant_id, connection)
    rows = fetch_all(customer_sql, [merchant, pk])
    if not rows:
        return None
    customer = model_from_row(Customer, concrete_attnames(Customer), rows[0])
    customer.loaded_custom_fields = [
        model_from_row(CustomField, concrete_attnames(CustomField), row) for row in fetch_all(fields_sql, [pk])
    ]
    return customer
