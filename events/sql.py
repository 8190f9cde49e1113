"""The hand-written query of the outbox: which webhook endpoints an event goes to, asked by every change.

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
from events.models import WebhookEndpoint

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
