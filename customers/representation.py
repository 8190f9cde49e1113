"""The one JSON shape of a customer, used by the API, events and exports."""

from typing import Any

from customers.models import Customer


def custom_fields_as_list(customer: Customer) -> list[dict[str, str]]:
    # .all() uses the prefetch cache when selectors filled it.
    return [{"name": f.name, "type": f.type, "value": f.value} for f in customer.custom_fields.all()]


def customer_as_dict(customer: Customer) -> dict[str, Any]:
    return {
        "customer_id": str(customer.customer_id),
        "merchant_id": str(customer.merchant_id),
        "firstname": customer.firstname,
        "lastname": customer.lastname,
        "email": customer.email,
        "company": customer.company,
        "address_country": customer.address_country,
        "options": {"custom_fields": custom_fields_as_list(customer)},
        "created_at": customer.created_at.isoformat().replace("+00:00", "Z"),
        "updated_at": customer.updated_at.isoformat().replace("+00:00", "Z"),
    }
