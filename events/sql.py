"""The hand-written queries of the outbox: which webhook endpoints an event goes to (asked by every change),
and which endpoints have deliveries waiting (asked by the worker).

The ORM's `WebhookEndpoint.objects.filter(merchant=..., is_active=True).values_list("id",
"enabled_events")` cost 310-380 us of CPU per call on the 2-core benchmark machine, this statement
80-100 us (`python bench/hot_paths.py`); a create costs about 1.4 ms of CPU in all. Built once from
model metadata and loaded as the ORM loads rows (core/sql.py); customers/tests/test_hand_written_sql.py checks
the result against the ORM's.
"""

import functools
import uuid

from django.db import connection

from core.sql import column_list, fetch_all, model_from_row
from events.models import EventDelivery, WebhookEndpoint

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
