"""Transactional outbox: every customer change writes its event in the change's transaction."""

from typing import Any

from django.db import transaction

from customers.models import CustomerEvent, EventDelivery, WebhookEndpoint
from merchants.models import Merchant


def event_record(*, merchant: Merchant, customer_id, type: str, snapshot: dict[str, Any]) -> CustomerEvent:
    """Write the event and one pending delivery per destination.

    Must run inside the transaction of the change, so that a rolled-back change
    leaves no event and a committed one always has its event. The gateway
    delivery is always queued: while GATEWAY_URL is unset the worker leaves it
    pending instead of dropping it.
    """
    assert transaction.get_connection().in_atomic_block, "events are written inside the change's transaction"
    event = CustomerEvent.objects.create(merchant=merchant, customer_id=customer_id, type=type, payload=snapshot)
    deliveries = [EventDelivery(event=event, destination=EventDelivery.GATEWAY)]
    for endpoint in WebhookEndpoint.objects.filter(merchant=merchant, is_active=True).only("id", "enabled_events"):
        if type in endpoint.enabled_events:
            deliveries.append(EventDelivery(event=event, destination=EventDelivery.WEBHOOK, endpoint=endpoint))
    EventDelivery.objects.bulk_create(deliveries)
    return event
