"""The hand-written queries of the outbox: which webhook endpoints an event goes to (asked by every change),
which endpoints have deliveries waiting, and the worker's claim of a batch (one statement on PostgreSQL).

The ORM's `WebhookEndpoint.objects.filter(merchant=..., is_active=True).values_list("id",
"enabled_events")` cost 310-380 us of CPU per call on the 2-core benchmark machine, this statement
80-100 us (`python bench/hot_paths.py`); a create costs about 1.4 ms of CPU in all. Built once from
model metadata and loaded as the ORM loads rows (core/sql.py); customers/tests/test_hand_written_sql.py checks
the result against the ORM's.
"""

import datetime
import functools
import uuid

from django.db import connection
from django.db.models import QuerySet

from core.sql import column_list, fetch_all, model_from_row
from events.models import CustomerEvent, EventDelivery, WebhookEndpoint

_FIELDS = ("id", "enabled_events")


@functools.cache
def _active_endpoints_sql() -> str:
    meta = WebhookEndpoint._meta
    q = connection.ops.quote_name
    # Identifiers come from model metadata, quoted by the backend; the merchant is a parameter.
    return (
        f"SELECT {column_list(WebhookEndpoint, _FIELDS)} FROM {q(meta.db_table)} "  # noqa: S608
        f"WHERE {q(meta.get_field('merchant').column)} = %s AND {q(meta.get_field('is_active').column)} "
        f"ORDER BY {q(meta.pk.column)}"
    )


def active_endpoint_events(*, merchant_id: uuid.UUID) -> list[tuple[uuid.UUID, list[str]]]:
    """(id, enabled_events) of each active webhook endpoint of the merchant, by id."""
    merchant = WebhookEndpoint._meta.get_field("merchant").get_db_prep_value(merchant_id, connection)
    endpoints = [
        model_from_row(WebhookEndpoint, _FIELDS, row) for row in fetch_all(_active_endpoints_sql(), [merchant])
    ]
    return [(endpoint.pk, endpoint.enabled_events) for endpoint in endpoints]


_PENDING_ENDPOINT_FIELDS = ("id", "url", "secret")


@functools.cache
def _endpoints_with_pending_sql() -> str:
    delivery, endpoint = EventDelivery._meta, WebhookEndpoint._meta
    q = connection.ops.quote_name
    table, status = q(delivery.db_table), q(delivery.get_field("status").column)
    column = q(delivery.get_field("endpoint").column)
    # A loose index scan of delivery_queue (status, endpoint, id): one probe per endpoint that has
    # pending deliveries, however many deliveries that is, instead of reading every pending row.
    return (
        f"WITH RECURSIVE pending (endpoint_id) AS ("  # noqa: S608
        f"SELECT (SELECT {column} FROM {table} WHERE {status} = %s AND {column} IS NOT NULL "
        f"ORDER BY {column} LIMIT 1) "
        f"UNION ALL SELECT (SELECT {column} FROM {table} WHERE {status} = %s AND {column} > pending.endpoint_id "
        f"ORDER BY {column} LIMIT 1) FROM pending WHERE pending.endpoint_id IS NOT NULL) "
        f"SELECT {column_list(WebhookEndpoint, _PENDING_ENDPOINT_FIELDS, 'e')} FROM pending "
        f"JOIN {q(endpoint.db_table)} e ON e.{q(endpoint.pk.column)} = pending.endpoint_id "
        f"WHERE e.{q(endpoint.get_field('is_active').column)}"
    )


def endpoints_with_pending() -> list[WebhookEndpoint]:
    """The active webhook endpoints that have pending deliveries (with their url and secret): the worker's lanes."""
    pending = EventDelivery.Status.PENDING
    rows = fetch_all(_endpoints_with_pending_sql(), [pending, pending])
    return [model_from_row(WebhookEndpoint, _PENDING_ENDPOINT_FIELDS, row) for row in rows]


_CLAIMED_DELIVERY_FIELDS = ("id", "event_id", "destination", "endpoint_id", "attempts", "last_attempt_at")
_CLAIMED_EVENT_FIELDS = ("id", "event_id", "merchant_id", "customer_id", "type", "payload", "created_at")


def claim_deliveries(due: QuerySet, *, claim: datetime.datetime, limit: int) -> list[EventDelivery]:
    """PostgreSQL: lease the first `limit` rows of `due` until `claim`, in one statement; each with its event loaded.

    `UPDATE ... WHERE id IN (due ids FOR UPDATE SKIP LOCKED) RETURNING`, joined
    to the events: one round trip instead of a transaction of four (select,
    update, commit), so a worker's claims do not wait on each other and rows
    another worker is claiming are skipped. The due query is the ORM's
    (events.worker.lane_due_deliveries), compiled here.
    """
    delivery, event = EventDelivery._meta, CustomerEvent._meta
    q = connection.ops.quote_name
    ids_sql, ids_params = due.values("pk")[:limit].query.get_compiler(connection=connection).as_sql()
    table = q(delivery.db_table)
    statement = (
        f"WITH claimed AS (UPDATE {table} SET {q(delivery.get_field('claimed_until').column)} = %s "  # noqa: S608
        f"WHERE {q(delivery.pk.column)} IN ({ids_sql} FOR UPDATE OF {table} SKIP LOCKED) "
        f"RETURNING {column_list(EventDelivery, _CLAIMED_DELIVERY_FIELDS)}) "
        f"SELECT {column_list(EventDelivery, _CLAIMED_DELIVERY_FIELDS, 'claimed')}, "
        f"{column_list(CustomerEvent, _CLAIMED_EVENT_FIELDS, 'e')} FROM claimed "
        f"JOIN {q(event.db_table)} e ON e.{q(event.pk.column)} = claimed.{q(delivery.get_field('event').column)} "
        f"ORDER BY claimed.{q(delivery.pk.column)}"
    )
    width = len(_CLAIMED_DELIVERY_FIELDS)
    claimed = []
    for row in fetch_all(statement, [claim, *ids_params]):
        loaded = model_from_row(EventDelivery, _CLAIMED_DELIVERY_FIELDS, row[:width])
        loaded.event = model_from_row(CustomerEvent, _CLAIMED_EVENT_FIELDS, row[width:])
        claimed.append(loaded)
    return claimed
