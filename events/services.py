"""Writes of the outbox: the events of a change with their deliveries, webhook endpoints, manual retries.

The outbox is told a subject (the customer's id) and a snapshot (a dict); it
does not know what a customer is.
"""

import dataclasses
import datetime
import math
import time
from collections.abc import Sequence
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from core.bulk_insert import Insert, PrimaryKeyOf, insert_rows, reserve_ids
from core.ids import uuid7
from core.scoping import scopes_disabled
from events.models import CustomerEvent, EventDelivery, WebhookEndpoint
from events.selectors import delivery_retry_refusal
from events.signing import webhook_secret_generate
from events.sql import active_endpoint_events
from events.validation import MAX_WEBHOOK_ENDPOINTS, clean_webhook_endpoint
from merchants.models import Merchant

EVENT_COLUMNS = ("event_id", "merchant", "customer_id", "type", "payload", "created_at")
DELIVERY_COLUMNS = ("event", "destination", "endpoint", "next_attempt_at", "created_at")


@dataclasses.dataclass(frozen=True)
class EventRows:
    """The events of one kind of change, one per subject, and the destinations each is delivered to.

    Built once by `event_rows`, for one change (written by `insert_all` with the
    change: `inserts`) or a batch of many (`write_many`). A rolled-back change
    must leave no event, and a committed one always has its event. The gateway
    delivery is always queued: while GATEWAY_URL is unset the worker leaves it
    pending instead of dropping it.
    """

    events: Insert
    destinations: list[tuple[str, Any]]  # (EventDelivery destination, webhook endpoint id or None)
    now: datetime.datetime

    def inserts(self, *, first: int) -> list[Insert]:
        """The event and its deliveries, for `insert_all`, as its parts `first` and `first + 1` (one event)."""
        assert len(self.events.rows) == 1, "a change writes one event; a batch uses write_many"
        deliveries = [
            (PrimaryKeyOf(first), destination, endpoint, self.now, self.now)
            for destination, endpoint in self.destinations
        ]
        return [self.events, Insert(EventDelivery, DELIVERY_COLUMNS, deliveries)]

    def with_reserved_ids(self) -> "EventRows":
        """These events with their ids taken now (PostgreSQL): they follow this order, whoever writes first."""
        ids = reserve_ids(CustomerEvent, len(self.events.rows))
        if ids is None:
            return self
        rows = [(pk, *row) for pk, row in zip(ids, self.events.rows, strict=True)]
        return dataclasses.replace(self, events=Insert(CustomerEvent, ("id", *EVENT_COLUMNS), rows))

    def write_many(self) -> None:
        """Write every event and its deliveries in bulk, inside the change's transaction."""
        assert transaction.get_connection().in_atomic_block, "events are written inside the change's transaction"
        if not self.events.rows:
            return
        events = self.events if "id" in self.events.names else self.with_reserved_ids().events
        ids = insert_rows(events)  # the new ids on SQLite; None after COPY, where they were taken beforehand
        if "id" in events.names:
            ids = [row[0] for row in events.rows]
        deliveries = [
            (pk, destination, endpoint, self.now, self.now) for pk in ids for destination, endpoint in self.destinations
        ]
        insert_rows(Insert(EventDelivery, DELIVERY_COLUMNS, deliveries))


def event_rows(
    *, merchant: Merchant, type: str, subjects: Sequence[tuple[Any, dict[str, Any]]], now: datetime.datetime
) -> EventRows:
    """Events of `type`, one per (subject id, snapshot) of `subjects`, for every destination subscribed to it now."""
    destinations = [(EventDelivery.GATEWAY, None)] + [
        (EventDelivery.WEBHOOK, endpoint_id) for endpoint_id in _subscribed_endpoints(merchant, type)
    ]
    events = [(uuid7(), merchant.pk, subject_id, type, snapshot, now) for subject_id, snapshot in subjects]
    return EventRows(events=Insert(CustomerEvent, EVENT_COLUMNS, events), destinations=destinations, now=now)


def _subscribed_endpoints(merchant: Merchant, type: str) -> list:
    """Ids of the merchant's active webhook endpoints that take events of `type`."""
    # The event-type filter is in Python: JSON containment differs between databases.
    return [pk for pk, enabled_events in active_endpoint_events(merchant_id=merchant.pk) if type in enabled_events]


def event_payloads_erase(*, merchant: Merchant, subject_id, payload: dict[str, Any]) -> None:
    """Replace the snapshot of every event of this subject by `payload` (its erasure): ids only, never sent."""
    CustomerEvent.objects.filter(merchant=merchant, customer_id=subject_id).update(payload=payload)


@transaction.atomic
def webhook_endpoint_create(*, merchant: Merchant, data: Any) -> WebhookEndpoint:
    """Validate `data` (url, description, enabled_events, is_active) and register the endpoint.

    The returned endpoint's `secret` is the signing secret; the doors show it
    this once. Events recorded from now on are delivered to it.
    """
    cleaned = clean_webhook_endpoint(data)
    # Serializes concurrent creations of one merchant so the limit holds.
    Merchant.objects.select_for_update().filter(pk=merchant.pk).first()
    if WebhookEndpoint.objects.filter(merchant=merchant).count() >= MAX_WEBHOOK_ENDPOINTS:
        message = f"A merchant can have at most {MAX_WEBHOOK_ENDPOINTS} webhook endpoints; delete one first."
        raise ValidationError(message, code="max_items")
    return WebhookEndpoint.objects.create(merchant=merchant, secret=webhook_secret_generate(), **cleaned)


@transaction.atomic
def webhook_endpoint_update(*, endpoint: WebhookEndpoint, data: Any, partial: bool = True) -> WebhookEndpoint:
    """Change an endpoint; `partial=False` replaces every field (absent ones take their defaults).

    The secret never changes here. New event types apply to events recorded
    from now on; deliveries already queued stay queued.
    """
    cleaned = clean_webhook_endpoint(data, partial=partial)
    endpoint = WebhookEndpoint.objects.select_for_update().get(pk=endpoint.pk)
    for field, value in cleaned.items():
        setattr(endpoint, field, value)
    endpoint.save()
    return endpoint


@transaction.atomic
def webhook_endpoint_delete(*, endpoint: WebhookEndpoint) -> None:
    """Remove the endpoint with its deliveries: nothing more is sent to it, queued or not."""
    endpoint.delete()


PAUSED_PING_MESSAGE = "This endpoint is paused: activate it to send a test event."


@transaction.atomic
def webhook_endpoint_ping(*, merchant: Merchant, endpoint: WebhookEndpoint) -> EventDelivery:
    """Queue a signed `ping` event for this one endpoint, delivered by the worker like every event.

    The event's subject is the endpoint (so pings to one endpoint go out in order,
    and no customer's events wait on them); it is not sent to the gateway nor to
    other endpoints, whatever they subscribe to. Its delivery shows in the
    endpoint's log with the answer the endpoint gave. Raises ValidationError for a
    paused endpoint (the worker sends nothing to one), WebhookEndpoint.DoesNotExist
    for another merchant's.
    """
    endpoint = WebhookEndpoint.objects.get(pk=endpoint.pk, merchant=merchant)
    if not endpoint.is_active:
        raise ValidationError(PAUSED_PING_MESSAGE, code="paused")
    now = timezone.now()
    event = CustomerEvent.objects.create(
        merchant=merchant,
        customer_id=endpoint.pk,
        type=CustomerEvent.Type.PING,
        payload={"endpoint_id": str(endpoint.pk), "message": "A test event from the customer vault's portal."},
    )
    return EventDelivery.objects.create(
        event=event, destination=EventDelivery.WEBHOOK, endpoint=endpoint, next_attempt_at=now
    )


@transaction.atomic
def delivery_retry(*, merchant: Merchant, delivery: EventDelivery) -> EventDelivery:
    """Queue a failed delivery again, due now, with a fresh set of attempts.

    Raises ValidationError when it cannot be retried (see
    `delivery_retry_refusal`) and EventDelivery.DoesNotExist when it is
    another merchant's. A later event of the subject written while this
    commits makes the retried delivery superseded: the worker checks again
    before sending it (events.worker.superseded) and skips it then.
    """
    delivery = (
        EventDelivery.objects.select_for_update().select_related("event").get(pk=delivery.pk, event__merchant=merchant)
    )
    refusal = delivery_retry_refusal(merchant=merchant, delivery=delivery)
    if refusal:
        raise ValidationError(refusal, code="not_retryable")
    delivery.status = EventDelivery.Status.PENDING
    delivery.attempts = 0
    delivery.next_attempt_at = timezone.now()
    delivery.save(update_fields=["status", "attempts", "next_attempt_at"])
    return delivery


@dataclasses.dataclass(frozen=True)
class Pruned:
    deliveries: int
    events: int
    more: bool  # the time budget ran out with old rows left


def events_prune(*, now: datetime.datetime | None = None, time_budget: float | None = None) -> Pruned:
    """Delete what the retention settings let go, oldest first, EVENT_PRUNE_BATCH_SIZE rows per statement.

    Finished deliveries (succeeded, failed, skipped) created more than
    EVENT_DELIVERY_RETENTION_DAYS ago, then events recorded more than
    EVENT_RETENTION_DAYS ago that have no pending delivery (with their finished
    deliveries). A pending delivery and its event are never pruned. With a
    `time_budget` (seconds) it stops after the batch that overran it and says
    whether old rows are left (`more`); the worker calls it so, between
    deliveries (Worker.run, every EVENT_PRUNE_INTERVAL). Every merchant's rows:
    it runs outside tenant scoping.
    """
    now = now or timezone.now()
    deadline = math.inf if time_budget is None else time.monotonic() + time_budget
    batch = max(1, settings.EVENT_PRUNE_BATCH_SIZE)
    pending = EventDelivery.Status.PENDING
    with scopes_disabled():
        old_deliveries = EventDelivery.objects.exclude(status=pending).filter(
            _older_than(EventDelivery, now - datetime.timedelta(days=settings.EVENT_DELIVERY_RETENTION_DAYS))
        )
        deliveries, more = _delete_in_batches(old_deliveries, batch, deadline)
        events = 0
        if not more:
            waiting = EventDelivery.objects.filter(event=OuterRef("pk"), status=pending)
            old_events = CustomerEvent.objects.filter(
                _older_than(CustomerEvent, now - datetime.timedelta(days=settings.EVENT_RETENTION_DAYS))
            ).filter(~Exists(waiting))
            events, more = _delete_in_batches(old_events, batch, deadline)
    return Pruned(deliveries=deliveries, events=events, more=more)


def _older_than(model, cutoff: datetime.datetime) -> Q:
    """Rows created before `cutoff`, as a primary-key range: ids grow with time, and the range is index-backed.

    The first row created at or after the cutoff is found by the primary key
    (reading past the few old rows pruning leaves: pending ones).
    """
    first_kept = model.objects.filter(created_at__gte=cutoff).order_by("pk").values_list("pk", flat=True).first()
    return Q(created_at__lt=cutoff) if first_kept is None else Q(pk__lt=first_kept, created_at__lt=cutoff)


def _delete_in_batches(queryset, batch: int, deadline: float) -> tuple[int, bool]:
    deleted = 0
    while True:
        ids = list(queryset.order_by("pk").values_list("pk", flat=True)[:batch])
        if ids:
            queryset.model.objects.filter(pk__in=ids).delete()
            deleted += len(ids)
        if len(ids) < batch:
            return deleted, False
        if time.monotonic() >= deadline:
            return deleted, True
