"""The one JSON shape of a customer, used by the API, events and exports."""

from collections.abc import Iterable
from typing import Any

from customers.models import Customer, CustomField


def custom_fields_as_list(
    customer: Customer, custom_fields: Iterable[CustomField] | None = None
) -> list[dict[str, str]]:
    # .all() uses the prefetch cache when selectors filled it.
    fields = customer.custom_fields.all() if custom_fields is None else custom_fields
    return [{"name": f.name, "type": f.type, "value": f.value} for f in fields]


def customer_as_dict(customer: Customer, *, custom_fields: Iterable[CustomField] | None = None) -> dict[str, Any]:
    """`custom_fields`, when given, are the customer's fields already in hand (the bulk import), saving a query."""
    return {
        "customer_id": str(customer.customer_id),
        "merchant_id": str(customer.merchant_id),
        "firstname": customer.firstname,
        "lastname": customer.lastname,
        "email": customer.email,
        "company": customer.company,
        "address_country": customer.address_country,
        "options": {"custom_fields": custom_fields_as_list(customer, custom_fields)},
        "created_at": customer.created_at.isoformat().replace("+00:00", "Z"),
        "updated_at": customer.updated_at.isoformat().replace("+00:00", "Z"),
    }
