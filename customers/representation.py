"""The one JSON shape of a customer, used by the API, events and exports."""

import datetime
import uuid
from collections.abc import Iterable
from typing import Any

from customers.models import Customer


def _timestamp(value: datetime.datetime) -> str:
    return value.isoformat().replace("+00:00", "Z")


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
) -> dict[str, Any]:
    """The customer as the API shows it. `custom_fields` are its fields in order (anything with name, type, value)."""
    return {
        "customer_id": str(customer_id),
        "merchant_id": str(merchant_id),
        "firstname": firstname,
        "lastname": lastname,
        "email": email,
        "company": company,
        "address_country": address_country,
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
        address_country=customer.address_country,
        custom_fields=customer.custom_field_list,
        created_at=customer.created_at,
        updated_at=customer.updated_at,
    )
