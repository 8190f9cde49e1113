"""Generated requests against the app's own OpenAPI schema (Schemathesis, in-process WSGI).

Every operation of /api/schema/ is called with positive and negative data made
from the schema, with a real bearer token, and every default check is on: no
5xx, status codes, content types, headers and bodies as documented, negative
data rejected, valid data accepted, missing auth answered 401. See the README
(security section) for the options and the larger run.

Examples per operation: SCHEMATHESIS_MAX_EXAMPLES (default 15; with the coverage phase several thousand calls
in total per run).
"""

import datetime
import os
import re
import types
import uuid

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, settings

from config.devserver import application
from core.text import text_error
from customers.contact import ADDRESS_MAX_LENGTHS, PHONE_PATTERN
from customers.selectors import _encode_cursor as encode_cursor
from customers.validation import normalize_country
from events.models import WebhookEndpoint
from tests.profiles import example_addresses

pytestmark = pytest.mark.slow

MAX_EXAMPLES = int(os.environ.get("SCHEMATHESIS_MAX_EXAMPLES", "15"))
VALID_KEY = re.compile(r"[ -~]{1,255}")


# Loaded from the app itself, as a client would: the schema view needs no database.
schema = schemathesis.openapi.from_wsgi("/api/schema/?format=json", application)


def keep_the_test_connection() -> None:
    """Calls go straight to the WSGI app, not through Django's test client: stop Django from
    closing the database connection after each request, as the test client does, or the test's
    transaction would be gone on PostgreSQL. (The test client connects the handler again after
    each of its own requests, so this runs before every call.)"""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)


@pytest.fixture(autouse=True)
def restore_connection_handling():
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def no_limits(settings):
    """Set once per operation, not per example: each change stacks an override layer."""
    settings.API_RATE_LIMIT = 0  # hundreds of calls from one client; the limit has its own tests
    settings.TOKEN_FAILURE_LIMIT = 0


@pytest.fixture
def bearer(merchant, token_for) -> dict[str, str]:
    return {"Authorization": f"Bearer {token_for(merchant)}"}


def well_formed_cursor(seed: str) -> str:
    row = types.SimpleNamespace(
        created_at=datetime.datetime(2020, 1, 1, tzinfo=datetime.UTC) + datetime.timedelta(seconds=len(seed)),
        customer_id=uuid.uuid5(uuid.NAMESPACE_URL, seed),
    )
    return encode_cursor(row)


def customers_in(body) -> list:
    if isinstance(body, dict) and isinstance(body.get("customers"), list):
        return [item for item in body["customers"] if isinstance(item, dict)]
    return [body] if isinstance(body, dict) else []


def unique_custom_field_names(customer: dict) -> None:
    """Rename repeated custom field names: "names are unique within a customer" is the one rule
    JSON Schema cannot say (uniqueItems compares whole items), so generated bodies repeat names
    the API rightly refuses. The renamed name keeps the generated one's validity.
    """
    fields = (customer.get("options") or {}).get("custom_fields") if isinstance(customer.get("options"), dict) else None
    seen: set[str] = set()
    for number, field in enumerate(fields if isinstance(fields, list) else []):
        name = field.get("name") if isinstance(field, dict) else None
        if isinstance(name, str):
            if name in seen:
                field["name"] = name = f"{name[:58]}_{number}"
            seen.add(name)


_PHONE = re.compile(rf"\s*{PHONE_PATTERN}\s*")


def real_phone_and_address(customer: dict) -> None:
    """Make a phone and an address the schema calls valid real ones: whether a number exists
    (libphonenumber) and what a country's addresses need (Google's address data) is beyond any JSON
    Schema, so generated ones are refused rightly. A generated value the schema calls invalid is kept
    as it is, so that negative cases stay negative.
    """
    phone = customer.get("phone")
    if isinstance(phone, str) and phone.strip() and _PHONE.fullmatch(phone):
        customer["phone"] = "+44 20 7183 8750"
    address = customer.get("address")
    well_formed = isinstance(address, dict) and all(
        key in ADDRESS_MAX_LENGTHS
        and (
            value is None
            or (isinstance(value, str) and len(value) <= ADDRESS_MAX_LENGTHS[key] and not text_error(value))
        )
        for key, value in address.items()
    )
    country = customer.get("address_country")
    if well_formed and isinstance(country, str) and normalize_country(country):
        customer["address"] = dict(example_addresses_by_country().get(normalize_country(country), {}))


def example_addresses_by_country() -> dict:
    return dict(example_addresses())


@schema.parametrize()
@settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.filter_too_much],
)
def test_every_operation_conforms_to_the_schema(case, merchant, bearer, no_limits):
    key = (case.headers or {}).get("Idempotency-Key")
    if isinstance(key, str) and VALID_KEY.fullmatch(key):
        # A real client sends a fresh key with each new request. Generated keys repeat ("0", "00"...)
        # across different bodies, which the API rightly answers with 422 (documented): keep the
        # generated key's shape but make it unique. Invalid keys are sent as generated.
        case.headers["Idempotency-Key"] = (uuid.uuid4().hex + key)[:255]
    cursor = (case.query or {}).get("cursor")
    if isinstance(cursor, str) and cursor.strip():
        # A cursor is opaque: clients only send back `next_cursor` values the API gave out, which no
        # schema can describe. Turn the generated string into a well-formed cursor (of a row that
        # may not exist); malformed cursors are tested in test_api_read_list.py and test_security_input.py.
        case.query["cursor"] = well_formed_cursor(cursor)
    for customer in customers_in(case.body):
        unique_custom_field_names(customer)
        real_phone_and_address(customer)
    if case.method == "POST" and case.path == "/api/v1/webhook-endpoints":
        # A merchant may have 16 endpoints (a documented 400 past that): start each create with room.
        WebhookEndpoint.objects.filter(merchant=merchant).delete()
    headers = {} if case.path == "/o/token/" else bearer
    keep_the_test_connection()
    case.call_and_validate(headers=headers)
