"""Reads of webhook endpoints, events and deliveries, always scoped to one merchant."""

from django.db.models import Prefetch, QuerySet

from core.ids import parse_uuid
from events.models import CustomerEvent, EventDelivery, WebhookEndpoint
from events.payloads import is_erased
from merchants.models import Merchant

RECENT_EVENTS = 20


def webhook_endpoint_list(*, merchant: Merchant) -> QuerySet[WebhookEndpoint]:
    return WebhookEndpoint.objects.filter(merchant=merchant).order_by("created_at", "id")


def webhook_endpoint_get(*, merchant: Merchant, endpoint_id) -> WebhookEndpoint:
    """The merchant's endpoint; WebhookEndpoint.DoesNotExist for a malformed, unknown or foreign id."""
    pk = parse_uuid(endpoint_id)
    if pk is None:
        raise WebhookEndpoint.DoesNotExist
    return WebhookEndpoint.objects.get(merchant=merchant, pk=pk)


def customer_recent_events(*, merchant: Merchant, customer_id, limit: int = RECENT_EVENTS) -> list[CustomerEvent]:
    """The customer's latest events, newest first, each with its deliveries (gateway first) prefetched."""
    pk = parse_uuid(customer_id)
    if pk is None:
        return []
    deliveries = EventDelivery.objects.select_related("endpoint").order_by("destination", "id")
    return list(
        CustomerEvent.objects.filter(merchant=merchant, customer_id=pk)
        .prefetch_related(Prefetch("deliveries", queryset=deliveries))
        .order_by("-id")[:limit]
    )


def delivery_get(*, merchant: Merchant, delivery_id) -> EventDelivery:
    """The merchant's delivery; EventDelivery.DoesNotExist for anything else."""
    try:
        pk = int(delivery_id)
    except (TypeError, ValueError):
        raise EventDelivery.DoesNotExist from None
    return EventDelivery.objects.select_related("event", "endpoint").get(event__merchant=merchant, pk=pk)


def delivery_retry_refusal(*, merchant: Merchant, delivery: EventDelivery) -> str | None:
    """Why this delivery cannot be retried, or None when it can.

    Only a failed delivery is retried, never an erased customer's event, and
    only while it is its customer's latest event for that destination: a later
    one carries newer data, and sending the older one after it would put the
    receiver back in the past.
    """
    if delivery.status != EventDelivery.Status.FAILED:
        return "Only a failed delivery can be retried."
    if is_erased(delivery.event):
        return "The customer was deleted and its data erased; this event is not sent any more."
    if delivery_is_superseded(delivery=delivery):
        return SUPERSEDED
    return None


SUPERSEDED = "A later event of this customer went to the same destination and carries newer data."


def delivery_is_superseded(*, delivery: EventDelivery) -> bool:
    """Whether a later event of the same subject has a delivery to the same destination (it carries newer data)."""
    return EventDelivery.objects.filter(
        event__merchant_id=delivery.event.merchant_id,
        destination=delivery.destination,
        endpoint_id=delivery.endpoint_id,
        event__customer_id=delivery.event.customer_id,
        event_id__gt=delivery.event_id,
    ).exists()
