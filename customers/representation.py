"""The one JSON shape of a customer, used by the API, events and exports."""

import datetime
import uuid
from collections.abc import Iterable
from typing import Any

from customers.contact import ADDRESS_COLUMNS
from customers.models import Customer


def _timestamp(value: datetime.datetime) -> str:
    return value.isoformat().replace("+00:00", "Z")


def address_object(values: dict[str, Any]) -> dict[str, str | None] | None:
    """The `address` object of a customer's columns (address_line1...); None when it has no part."""
    address = {part: values.get(column) for part, column in ADDRESS_COLUMNS.items()}
    return address if any(address.values()) else None


def customer_representation(
    *,
    customer_id: uuid.UUID,
    merchant_id: uuid.UUID,
    firstname: str | None,
    lastname: str | None,
    email: str | None,
    company: str | None,
    address_country: str | None,
    custom_fields: Iterable,
    created_at: datetime.datetime,
    updated_at: datetime.datetime,
    phone: str | None = None,
    reference: str | None = None,
    **address_columns: str | None,
) -> dict[str, Any]:
    """The customer as the API shows it. `custom_fields` are its fields in order (anything with name, type, value).

    `address_columns` are the address_line1... columns, shown as the `address` object.
    """
    unknown = set(address_columns) - set(ADDRESS_COLUMNS.values())
    if unknown:
        raise TypeError(f"Unexpected fields: {sorted(unknown)}")
    return {
        "customer_id": str(customer_id),
        "merchant_id": str(merchant_id),
        "firstname": firstname,
        "lastname": lastname,
        "email": email,
        "company": company,
        "phone": phone,
        "address": address_object(address_columns),
        "address_country": address_country,
        "reference": reference,
        "options": {"custom_fields": [{"name": f.name, "type": f.type, "value": f.value} for f in custom_fields]},
        "created_at": _timestamp(created_at),
        "updated_at": _timestamp(updated_at),
    }


def customer_as_dict(customer: Customer) -> dict[str, Any]:
    return customer_representation(
        customer_id=customer.customer_id,
        merchant_id=customer.merchant_id,
        firstname=customer.firstname,
        lastname=customer.lastname,
        email=customer.email,
        company=customer.company,
        phone=customer.phone,
        address_country=customer.address_country,
        reference=customer.reference,
        custom_fields=customer.custom_field_list,
        created_at=customer.created_at,
        updated_at=customer.updated_at,
        **{column: getattr(customer, column) for column in ADDRESS_COLUMNS.values()},
    )
