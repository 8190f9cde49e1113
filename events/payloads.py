"""What each destination receives for an event: the exact JSON bytes that get signed."""

import json
from typing import Any

from events.models import CustomerEvent

GATEWAY_NAME_FIELDS = ("firstname", "lastname", "email", "company")


def is_erased(event: CustomerEvent) -> bool:
    """True for an event whose snapshot was scrubbed when its customer was deleted.

    `customer_delete` replaces earlier payloads of the customer with ids and
    `"erased": true`; such an event must never go out with stale personal data.
    """
    return event.type != CustomerEvent.Type.DELETED and bool(event.payload.get("erased"))


def gateway_payload(event: CustomerEvent) -> dict[str, Any]:
    """The customer record for the processing gateway.

    `customer_id`, `merchant_id` and the four name fields (null when empty);
    `phone` (E.164), `address` (with the parts the customer has: line1, line2,
    city, region, postal_code), `address_country` and `reference` only when the
    customer has them (absent, never null; an address part likewise).
    Custom fields are never sent. A deletion carries the two ids alone.
    """
    body: dict[str, Any] = {"customer_id": str(event.customer_id), "merchant_id": str(event.merchant_id)}
    if event.type == CustomerEvent.Type.DELETED:
        return body
    snapshot = event.payload
    for field in GATEWAY_NAME_FIELDS:
        body[field] = snapshot.get(field)
    if snapshot.get("phone"):
        body["phone"] = snapshot["phone"]
    address = {part: value for part, value in (snapshot.get("address") or {}).items() if value}
    if address:
        body["address"] = address
    for field in ("address_country", "reference"):
        if snapshot.get(field):
            body[field] = snapshot[field]
    return body


def webhook_payload(event: CustomerEvent) -> dict[str, Any]:
    """The whole event for a merchant's own endpoint; `data` is the customer as the API shows it."""
    return {
        "id": str(event.event_id),
        "type": event.type,
        "created": event.created_at.isoformat().replace("+00:00", "Z"),
        "data": event.payload,
    }


def encode(payload: dict[str, Any]) -> bytes:
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
