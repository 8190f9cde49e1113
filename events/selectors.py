"""Reads of webhook endpoints, events and deliveries, scoped to one merchant; and the operators' backlog."""

import dataclasses
import datetime

from django.db.models import Count, Exists, Min, OuterRef, Prefetch, QuerySet

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


DELIVERY_LOG_PAGE_SIZE = 50


@dataclasses.dataclass(frozen=True)
class DeliveryLogPage:
    """One page of an endpoint's deliveries, newest first, with the keyset cursors of its neighbours."""

    deliveries: list[EventDelivery]  # each with its event loaded
    older: int | None  # `before` of the next (older) page; None on the last one
    newer: int | None  # `after` of the previous (newer) page; None on the first one


def endpoint_delivery_log(
    *,
    merchant: Merchant,
    endpoint: WebhookEndpoint,
    before=None,
    after=None,
    limit: int = DELIVERY_LOG_PAGE_SIZE,
) -> DeliveryLogPage:
    """The endpoint's deliveries, newest first: the page below delivery id `before`, or above `after`, or the newest.

    Keyset pagination on the delivery id (ids grow with time), read from the
    delivery_endpoint_recent index (endpoint, -id) one page at a time, however
    long the log; one query, plus one to know whether a newer page exists when
    going by `before` or `after`. A malformed cursor is the first page.
    """
    deliveries = EventDelivery.objects.filter(endpoint=endpoint, event__merchant=merchant).select_related("event")
    before, after = _cursor(before), _cursor(after)
    if after is not None:
        # Upwards from `after`: the `limit` deliveries just above it, read in index order, shown newest first.
        rows = list(deliveries.filter(pk__gt=after).order_by("id")[: limit + 1])
        if not rows:  # nothing newer any more: the newest page
            return endpoint_delivery_log(merchant=merchant, endpoint=endpoint, limit=limit)
        has_newer = len(rows) > limit
        rows = rows[:limit][::-1]
        has_older = True
    else:
        if before is not None:
            deliveries = deliveries.filter(pk__lt=before)
        rows = list(deliveries.order_by("-id")[: limit + 1])
        has_older = len(rows) > limit
        rows = rows[:limit]
        has_newer = (
            before is not None
            and bool(rows)
            and EventDelivery.objects.filter(endpoint=endpoint, pk__gt=rows[0].pk).exists()
        )
    return DeliveryLogPage(
        deliveries=rows,
        older=rows[-1].pk if rows and has_older else None,
        newer=rows[0].pk if rows and has_newer else None,
    )


def _cursor(value) -> int | None:
    """A delivery id from a query string; None when it is missing or no id could be it (not a positive bigint)."""
    try:
        cursor = int(value)
    except (TypeError, ValueError):
        return None
    return cursor if 0 < cursor < 2**63 else None


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


@dataclasses.dataclass(frozen=True)
class DestinationBacklog:
    """What waits for one destination: the gateway (`endpoint` None) or one webhook endpoint."""

    endpoint: WebhookEndpoint | None  # its merchant loaded
    pending: int  # due, waiting for a retry, or in flight
    oldest_pending_at: datetime.datetime | None  # when the oldest of them was recorded

    @property
    def destination(self) -> str:
        return EventDelivery.GATEWAY if self.endpoint is None else EventDelivery.WEBHOOK

    def oldest_age(self, now: datetime.datetime) -> float:
        """Seconds the oldest pending delivery has waited; 0 with nothing pending."""
        return 0.0 if self.oldest_pending_at is None else max(0.0, (now - self.oldest_pending_at).total_seconds())


def delivery_backlog() -> list[DestinationBacklog]:
    """Pending deliveries per destination, every merchant's (operators: admin and /metrics; no tenant scope).

    The gateway always comes first, with zeros when nothing waits; then each
    webhook endpoint with something pending, most pending first. Three
    statements, each reading the delivery_queue index (status, endpoint, id):
    the pending range grouped by endpoint (count, lowest id), the oldest rows by
    primary key, their endpoints.
    """
    groups = list(
        EventDelivery.objects.filter(status=EventDelivery.Status.PENDING)
        .values("endpoint_id")
        .annotate(pending=Count("pk"), oldest=Min("pk"))
        .order_by()
    )
    created = dict(
        EventDelivery.objects.filter(pk__in=[group["oldest"] for group in groups]).values_list("pk", "created_at")
    )
    endpoint_ids = [group["endpoint_id"] for group in groups if group["endpoint_id"] is not None]
    endpoints = WebhookEndpoint.objects.select_related("merchant").in_bulk(endpoint_ids)
    gateway = DestinationBacklog(endpoint=None, pending=0, oldest_pending_at=None)
    webhooks = []
    for group in groups:
        if group["endpoint_id"] is None:
            gateway = DestinationBacklog(None, group["pending"], created.get(group["oldest"]))
        elif group["endpoint_id"] in endpoints:  # not removed since
            endpoint = endpoints[group["endpoint_id"]]
            webhooks.append(DestinationBacklog(endpoint, group["pending"], created.get(group["oldest"])))
    webhooks.sort(key=lambda backlog: (-backlog.pending, str(backlog.endpoint.pk)))
    return [gateway, *webhooks]


def webhook_endpoints_failing_count(
    *, merchant: Merchant, now: datetime.datetime, window=datetime.timedelta(days=1)
) -> int:
    """The merchant's active endpoints that are failing: a delivery being retried after a failed attempt,
    or one that gave up within `window` (one query; each endpoint's deliveries read through the queue index)."""
    retrying = EventDelivery.objects.filter(
        endpoint=OuterRef("pk"), status=EventDelivery.Status.PENDING, attempts__gt=0
    )
    gave_up = EventDelivery.objects.filter(
        endpoint=OuterRef("pk"), status=EventDelivery.Status.FAILED, last_attempt_at__gte=now - window
    )
    return (
        WebhookEndpoint.objects.filter(merchant=merchant, is_active=True)
        .filter(Exists(retrying) | Exists(gave_up))
        .count()
    )
