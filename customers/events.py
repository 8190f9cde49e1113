"""Transactional outbox: every customer change writes its event in the change's transaction."""

import datetime
import functools
from collections.abc import Sequence
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from config.sql import column_list, fetch_all, model_from_row
from customers.bulk_insert import Insert, PrimaryKeyOf, insert_rows, reserve_ids
from customers.ids import uuid7
from customers.models import CustomerEvent, EventDelivery, WebhookEndpoint
from merchants.models import Merchant


def event_inserts(*, merchant: Merchant, customer_id, type: str, snapshot: dict[str, Any], first: int) -> list[Insert]:
    """The event and its pending deliveries, one per destination, as the `Insert`s at `first` and `first + 1`.

    Write them with `insert_all` together with the change itself, or inside its
    transaction: a rolled-back change must leave no event, and a committed one
    always has its event. The gateway delivery is always queued: while
    GATEWAY_URL is unset the worker leaves it pending instead of dropping it.
    """
    now = timezone.now()
    event = (uuid7(), merchant.pk, customer_id, type, snapshot, now)
    destinations = [(EventDelivery.GATEWAY, None)] + [
        (EventDelivery.WEBHOOK, endpoint_id) for endpoint_id in _subscribed_endpoints(merchant, type)
    ]
    return [
        Insert(CustomerEvent, ("event_id", "merchant", "customer_id", "type", "payload", "created_at"), [event]),
        Insert(
            EventDelivery,
            ("event", "destination", "endpoint", "next_attempt_at", "created_at"),
            [(PrimaryKeyOf(first), destination, endpoint, now, now) for destination, endpoint in destinations],
        ),
    ]


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
    *,
    merchant: Merchant,
    type: str,
    snapshots: Sequence[tuple[Any, dict[str, Any]]],
    now: datetime.datetime,
    ids: list[int] | None = None,
) -> None:
    """`event_inserts` for many customers at once (the bulk import): the same rows, by COPY on PostgreSQL.

    `snapshots` holds (customer_id, snapshot) pairs; events get increasing ids
    in that order (`ids`, when reserved beforehand with `reserve_ids`). `now` is
    the events' and deliveries' created_at.
    """
    assert transaction.get_connection().in_atomic_block, "events are written inside the change's transaction"
    if not snapshots:
        return
    endpoint_ids = _subscribed_endpoints(merchant, type)
    event_fields = ["event_id", "merchant", "customer_id", "type", "payload", "created_at"]
    events = [(uuid7(), merchant.pk, customer_id, type, snapshot, now) for customer_id, snapshot in snapshots]
    if ids is None:
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
