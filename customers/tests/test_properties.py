"""Property tests of the customer rules (Hypothesis).

The properties, for generated input:
- whatever the domain layer accepts comes back from the database in normalized
  form (trimmed strings, blank as null, upper-case country, custom field values
  as strings) through create -> retrieve, and the same holds through the API;
- a custom field value valid for its type survives as the very same string;
- validation of arbitrary JSON-like input raises ValidationError or nothing;
- a PATCH refused after its writes (the per-customer custom field limit) leaves
  the customer, its fields and its events as they were.

Example counts come from the Hypothesis profile (tests/conftest.py): "ci" by
default, HYPOTHESIS_PROFILE=thorough for a long run.
"""

import datetime
import uuid

import pytest
from django.core.exceptions import ValidationError
from django.db import transaction
from hypothesis import given, note
from hypothesis import strategies as st

from core.text import WHITESPACE
from customers.models import Customer, CustomField
from customers.representation import customer_as_dict
from customers.selectors import customer_get
from customers.services import customer_create
from customers.validation import MAX_CUSTOM_FIELDS, MAX_LENGTHS, NAME_FIELDS, clean_customer_payload
from events.models import CustomerEvent

pytestmark = pytest.mark.django_db

COUNTRY_CODES = ["USA", "GBR", "DEU", "FRA", "JPN", "BRA", "ZAF", "NZL", "CHE", "IND"]
CUSTOM_FIELD_NAME = st.from_regex(r"\A[A-Za-z0-9_.-]{1,64}\Z")

# Text a person could type: any Unicode but NUL and lone surrogates (those are rejected, tested below).
typed_text = st.text(st.characters(exclude_categories=("Cs",), exclude_characters="\x00"), max_size=120)
padding = st.sampled_from(["", " ", "  ", "\t", "\n", " \u00a0"])


@st.composite
def padded(draw, inner):
    return draw(padding) + draw(inner) + draw(padding)


def _offset_timezones():
    return st.integers(min_value=-14 * 60, max_value=14 * 60).map(
        lambda minutes: datetime.timezone(datetime.timedelta(minutes=minutes))
    )


# For each type: values the rules must accept, as the JSON value a client sends.
VALID_VALUES = {
    "string": st.text(st.characters(exclude_categories=("Cs",), exclude_characters="\x00"), max_size=500),
    "integer": st.one_of(
        st.integers(min_value=-(10**30), max_value=10**30),
        st.integers(min_value=-(10**30), max_value=10**30).map(str),
    ),
    "number": st.one_of(
        st.floats(allow_nan=False, allow_infinity=False),
        st.integers(min_value=-(10**18), max_value=10**18),
        st.decimals(allow_nan=False, allow_infinity=False, places=4).map(str),
    ),
    "boolean": st.one_of(st.booleans(), st.sampled_from(["true", "false"])),
    "date": st.dates().map(datetime.date.isoformat),
    "datetime": st.datetimes(timezones=_offset_timezones()).map(datetime.datetime.isoformat),
    "email": st.emails(),
    "url": st.from_regex(
        r"\Ahttps?://[a-z]([a-z0-9-]{0,18}[a-z0-9])?\.(com|org|example)(/[A-Za-z0-9._~-]{0,30}){0,3}\Z"
    ),
}


def as_stored_string(value) -> str:
    """How a JSON custom field value is stored and returned: always a string."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return repr(value)
    return str(value)


@st.composite
def custom_fields(draw, max_size=8):
    names = draw(st.lists(CUSTOM_FIELD_NAME, max_size=max_size, unique=True))
    fields = []
    for name in names:
        type_ = draw(st.sampled_from(sorted(VALID_VALUES)))
        field = {"name": name, "value": draw(VALID_VALUES[type_])}
        # "string" is the default type: sometimes leave it out.
        if type_ != "string" or draw(st.booleans()):
            field["type"] = type_
        fields.append(field)
    return fields


@st.composite
def plausible_payloads(draw):
    """Mostly valid customer payloads, with the odd rule broken (too long, blank, bad country)."""
    payload = {}
    for field in NAME_FIELDS:
        if draw(st.booleans()):
            inner = st.emails() if field == "email" else typed_text
            payload[field] = draw(st.one_of(st.none(), padded(inner)))
    if draw(st.booleans()):
        code = draw(st.sampled_from(COUNTRY_CODES))
        payload["address_country"] = draw(st.sampled_from([code, code.lower(), code.title(), f" {code} ", None]))
    if draw(st.booleans()):
        payload["options"] = {"custom_fields": draw(custom_fields())}
    return payload


def expected_record(payload: dict) -> dict:
    """The normalized form a stored customer must have for an accepted payload."""
    record = {}
    for field in NAME_FIELDS:
        value = payload.get(field)
        record[field] = value.strip(WHITESPACE) or None if isinstance(value, str) else None
    country = payload.get("address_country")
    record["address_country"] = country.strip(WHITESPACE).upper() or None if isinstance(country, str) else None
    record["custom_fields"] = [
        {"name": f["name"], "type": f.get("type", "string"), "value": as_stored_string(f["value"])}
        for f in (payload.get("options") or {}).get("custom_fields") or []
    ]
    return record


def stored_record(data: dict) -> dict:
    record = {field: data[field] for field in (*NAME_FIELDS, "address_country")}
    record["custom_fields"] = data["options"]["custom_fields"]
    return record


def could_be_accepted(payload: dict) -> bool:
    record = expected_record(payload)
    return any(record[f] for f in NAME_FIELDS) and all(
        record[f] is None or len(record[f]) <= MAX_LENGTHS[f] for f in NAME_FIELDS
    )


@given(payload=plausible_payloads())
def test_an_accepted_payload_round_trips_through_create_and_retrieve_in_normalized_form(merchant, payload):
    note(repr(payload))
    rejection = None
    with transaction.atomic():
        try:
            customer = customer_create(merchant=merchant, data=payload)
        except ValidationError as error:
            rejection = error.message_dict
        else:
            stored = customer_as_dict(customer_get(merchant=merchant, customer_id=customer.customer_id))
            assert stored_record(stored) == expected_record(payload)
            assert stored["merchant_id"] == str(merchant.pk)
            transaction.set_rollback(True)
    if rejection is not None:
        # A rejection must be explained by a rule the payload really breaks.
        assert not could_be_accepted(payload) or "email" in rejection, rejection


@given(fields=custom_fields(max_size=50))
def test_custom_field_values_of_every_type_survive_as_the_same_strings(merchant, fields):
    with transaction.atomic():
        customer = customer_create(merchant=merchant, data={"company": "Acme", "options": {"custom_fields": fields}})
        stored = list(CustomField.objects.filter(customer=customer).values_list("name", "type", "value"))
        assert stored == [(f["name"], f.get("type", "string"), as_stored_string(f["value"])) for f in fields]
        transaction.set_rollback(True)


@given(type_=st.sampled_from(sorted(VALID_VALUES)), data=st.data())
def test_every_valid_value_of_a_type_is_accepted(type_, data):
    value = data.draw(VALID_VALUES[type_])
    cleaned = clean_customer_payload(
        {"firstname": "Ada", "options": {"custom_fields": [{"name": "f", "type": type_, "value": value}]}}
    )
    assert cleaned.custom_fields[0].value == as_stored_string(value)


# Arbitrary JSON-like values, including what JSON can carry but text columns cannot.
hostile_text = st.one_of(
    st.text(max_size=50),  # any code point, lone surrogates and NUL included
    st.text(st.sampled_from("\x00\ud800\udfff\u202e\ufeff \t"), max_size=10),
    st.integers(min_value=200, max_value=20_000).map(lambda n: "x" * n),
)
huge_numbers = st.one_of(
    # Past 4,300 digits Python's str(int) itself raises ValueError.
    st.sampled_from([4301, 5000, -5000]).map(lambda n: 10 ** abs(n) * (1 if n > 0 else -1)),
    st.floats(),  # nan and infinities included
    st.integers(),
)
json_scalars = st.one_of(st.none(), st.booleans(), huge_numbers, hostile_text)


def _json_containers(children):
    return st.one_of(st.lists(children, max_size=6), st.dictionaries(st.text(max_size=12), children, max_size=6))


json_values = st.recursive(json_scalars, _json_containers, max_leaves=25)
known_keys = st.sampled_from(["firstname", "lastname", "email", "company", "address_country", "options", "first_name"])


@st.composite
def hostile_payloads(draw):
    """Right shape, arbitrary contents: every field, option and custom field key with any JSON value."""
    payload = draw(st.dictionaries(st.one_of(known_keys, st.text(max_size=12)), json_values, max_size=6))
    if draw(st.booleans()):
        items = draw(
            st.lists(
                st.one_of(
                    json_values,
                    st.dictionaries(st.sampled_from(["name", "type", "value", "Value"]), json_values, max_size=4),
                ),
                max_size=8,
            )
        )
        payload["options"] = draw(
            st.sampled_from([{"custom_fields": items}, {"custom_fields": items, "extra": 1}, items])
        )
    return payload


@given(payload=st.one_of(json_values, hostile_payloads()), partial=st.booleans())
def test_validation_raises_nothing_but_validation_errors_for_any_json(payload, partial):
    try:
        clean_customer_payload(payload, partial=partial)
    except ValidationError as error:
        rejection = error.message_dict
    else:
        return
    for field, messages in rejection.items():
        assert isinstance(field, str)
        assert all(isinstance(m, str) and m for m in messages)


@given(
    existing=st.integers(min_value=1, max_value=MAX_CUSTOM_FIELDS),
    added=st.integers(min_value=1, max_value=MAX_CUSTOM_FIELDS),
    change_existing=st.booleans(),
)
def test_a_patch_refused_after_its_writes_leaves_the_customer_and_its_fields_unchanged(
    api_client, merchant, existing, added, change_existing
):
    """The per-customer limit is checked after the new fields are written: the refusal must undo every write."""
    if existing + added <= MAX_CUSTOM_FIELDS:
        added = MAX_CUSTOM_FIELDS + 1 - existing
    fields = [{"name": f"kept{i}", "value": f"v{i}"} for i in range(existing)]
    created = api_client.post(
        "/api/v1/customers", {"firstname": "Ada", "options": {"custom_fields": fields}}, format="json"
    )
    assert created.status_code == 201, created.content
    url = f"/api/v1/customers/{created.json()['customer_id']}"
    before = api_client.get(url).json()
    events_before = CustomerEvent.objects.count()
    patch = [{"name": f"new{i}", "value": "x"} for i in range(added)]
    if change_existing:
        patch.append({"name": "kept0", "value": "changed"})

    response = api_client.patch(url, {"lastname": "Lovelace", "options": {"custom_fields": patch}}, format="json")

    assert response.status_code == 400, response.content
    assert [e["code"] for e in response.json()["errors"]] == ["max_items"]
    assert api_client.get(url).json() == before
    assert CustomField.objects.filter(customer_id=before["customer_id"]).count() == existing
    assert CustomerEvent.objects.count() == events_before


@given(payload=plausible_payloads())
def test_through_the_api_an_accepted_payload_reads_back_the_same_and_a_rejected_one_is_a_400(api_client, payload):
    before = Customer.objects.count()
    created = api_client.post("/api/v1/customers", payload, format="json")
    assert created.status_code in (201, 400), created.content
    if created.status_code == 400:
        assert created["Content-Type"] == "application/problem+json"
        assert created.json()["errors"]
        assert Customer.objects.count() == before
        return
    customer_id = created.json()["customer_id"]
    uuid.UUID(customer_id)
    read = api_client.get(f"/api/v1/customers/{customer_id}")
    assert read.status_code == 200
    assert read.json()["data"] == created.json()["data"]
    assert stored_record(read.json()["data"]) == expected_record(payload)
