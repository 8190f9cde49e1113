"""Transactional outbox: every customer change writes its event in the change's transaction."""

import datetime
import functools
from collections.abc import Sequence
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from config.sql import column_list, fetch_all, model_from_row
from customers.bulk_insert import insert_one, insert_rows, insert_values, reserve_ids
from customers.ids import uuid7
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
    now = timezone.now()
    event_id = uuid7()
    pk = insert_one(
        CustomerEvent,
        event_id=event_id,
        merchant=merchant.pk,
        customer_id=customer_id,
        type=type,
        payload=snapshot,
        created_at=now,
    )
    destinations = [(EventDelivery.GATEWAY, None)] + [
        (EventDelivery.WEBHOOK, endpoint_id) for endpoint_id in _subscribed_endpoints(merchant, type)
    ]
    insert_values(
        EventDelivery,
        ("event", "destination", "endpoint", "next_attempt_at", "created_at"),
        [(pk, destination, endpoint, now, now) for destination, endpoint in destinations],
    )
    return CustomerEvent(
        id=pk,
        event_id=event_id,
        merchant=merchant,
        customer_id=customer_id,
        type=type,
        payload=snapshot,
        created_at=now,
    )


@functools.cache
def _subscribed_endpoints_sql() -> str:
    meta = WebhookEndpoint._meta
    q = connection.ops.quote_name
    # Identifiers come from model metadata, quoted by the backend; the merchant is a parameter.
    return (
        f"SELECT {column_list(WebhookEndpoint, _ENDPOINT_FIELDS)} FROM {q(meta.db_table)} "  # noqa: S608
        f"WHERE {q(meta.get_field('merchant').column)} = %s AND {q(meta.get_field('is_active').column)}"
    )


_ENDPOINT_FIELDS = ("id", "enabled_events")


def _subscribed_endpoints(merchant: Merchant, type: str) -> list:
    """Ids of the merchant's active webhook endpoints that take events of `type`."""
    # Hand-written because every change runs it (config/sql.py); the event-type
    # filter is in Python, as JSON containment differs between databases.
    rows = fetch_all(_subscribed_endpoints_sql(), [WebhookEndpoint._meta.pk.get_db_prep_value(merchant.pk, connection)])
    endpoints = [model_from_row(WebhookEndpoint, _ENDPOINT_FIELDS, row) for row in rows]
    return [endpoint.pk for endpoint in endpoints if type in endpoint.enabled_events]


def event_record_many(
    *, merchant: Merchant, type: str, snapshots: Sequence[tuple[Any, dict[str, Any]]], now: datetime.datetime
) -> None:
    """`event_record` for many customers at once (the bulk import): the same rows, by COPY on PostgreSQL.

    `snapshots` holds (customer_id, snapshot) pairs; events get increasing ids
    in that order. `now` is the events' and deliveries' created_at.
    """
    assert transaction.get_connection().in_atomic_block, "events are written inside the change's transaction"
    if not snapshots:
        return
    endpoint_ids = _subscribed_endpoints(merchant, type)
    event_fields = ["event_id", "merchant", "customer_id", "type", "payload", "created_at"]
    events = [(uuid7(), merchant.pk, customer_id, type, snapshot, now) for customer_id, snapshot in snapshots]
    ids = reserve_ids(CustomerEvent, len(events))
    if ids is not None:
        insert_rows(CustomerEvent, ["id", *event_fields], [(pk, *row) for pk, row in zip(ids, events, strict=True)])
    else:
        ids = insert_rows(CustomerEvent, event_fields, events)
    destinations = [(EventDelivery.GATEWAY, None)] + [(EventDelivery.WEBHOOK, pk) for pk in endpoint_ids]
    insert_rows(
        EventDelivery,
        ["event", "destination", "endpoint", "next_attempt_at", "created_at"],
        [(pk, destination, endpoint, now, now) for pk in ids for destination, endpoint in destinations],
    )
