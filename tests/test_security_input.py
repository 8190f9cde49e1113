"""Hostile and malformed input to the API's write endpoints (OWASP API3, API4, API8).

Each case must be a clear 4xx problem document naming what was wrong, never a
500, and must leave no partial record. The create endpoint's own rules (NUL
bytes, blank fields, 413, bad tokens) are tested in test_customer_create_api.py.
"""

import json

import pytest

from audit.models import AuditEntry
from customers.models import Customer, CustomField
from events.models import CustomerEvent
from tests.api_helpers import assert_problem

pytestmark = pytest.mark.django_db

CUSTOMERS = "/api/v1/customers"
READ_ONLY_FIELDS = ("customer_id", "merchant_id", "created_at", "updated_at")


def rows() -> tuple[int, int, int, int]:
    return (
        Customer.objects.count(),
        CustomField.objects.count(),
        CustomerEvent.objects.count(),
        AuditEntry.objects.count(),
    )


def post_raw(client, body: str | bytes, path: str = CUSTOMERS):
    return client.generic("POST", path, body, content_type="application/json")


def error_fields(body: dict) -> set[str]:
    return {error["field"] for error in body.get("errors", [])}


# --- mass assignment -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("field", READ_ONLY_FIELDS)
def test_a_read_only_field_in_a_create_body_is_rejected_and_never_applied(api_client, other_merchant, field):
    forged = {
        "customer_id": "00000000-0000-4000-8000-000000000001",
        "merchant_id": str(other_merchant.pk),
        "created_at": "2000-01-01T00:00:00Z",
        "updated_at": "2000-01-01T00:00:00Z",
    }[field]
    before = rows()

    response = api_client.post(CUSTOMERS, {"firstname": "Ada", field: forged}, format="json")

    body = assert_problem(response, 400)
    assert field in error_fields(body)
    assert "Unknown field" in json.dumps(body)
    assert rows() == before
    assert not Customer.objects.filter(merchant=other_merchant).exists()


def test_read_only_fields_inside_options_or_a_custom_field_are_rejected_too(api_client, other_merchant):
    before = rows()
    response = api_client.post(
        CUSTOMERS,
        {
            "firstname": "Ada",
            "options": {
                "merchant_id": str(other_merchant.pk),
                "custom_fields": [{"name": "tier", "value": "gold", "customer_id": "x"}],
            },
        },
        format="json",
    )

    body = assert_problem(response, 400)
    assert {"options.merchant_id", "options.custom_fields[0].customer_id"} <= error_fields(body)
    assert rows() == before


# --- nesting and size ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "document",
    [
        "[" * 100_000 + "]" * 100_000,
        '{"a":' * 50_000 + "1" + "}" * 50_000,
        '{"firstname": ' + "[" * 100_000 + "]" * 100_000 + "}",
    ],
    ids=["arrays", "objects", "inside-a-field"],
)
def test_json_nested_too_deeply_to_parse_is_a_400_not_a_500(api_client, document):
    before = rows()

    body = assert_problem(post_raw(api_client, document), 400)

    assert body["type"].endswith("/malformed-json")
    assert "nested too deeply" in body["detail"]
    assert rows() == before


def test_nesting_that_parses_but_is_not_the_customer_shape_names_each_field(api_client):
    deep = [[[[[[[[[["x"]]]]]]]]]]
    response = api_client.post(
        CUSTOMERS,
        {"firstname": deep, "options": {"custom_fields": [{"name": "a", "value": {"b": deep}}]}},
        format="json",
    )

    body = assert_problem(response, 400)
    assert {"firstname", "options.custom_fields[0].value"} <= error_fields(body)


def test_ten_thousand_custom_fields_are_one_clear_error_and_nothing_is_written(api_client):
    fields = [{"name": f"f{i}", "value": str(i)} for i in range(10_000)]
    before = rows()

    response = api_client.post(CUSTOMERS, {"firstname": "Ada", "options": {"custom_fields": fields}}, format="json")

    body = assert_problem(response, 400)
    assert body["errors"] == [
        {
            "field": "options.custom_fields",
            "code": "max_items",
            "message": "At most 50 custom fields are allowed (got 10000).",
        }
    ]
    assert rows() == before


def test_an_integer_with_thousands_of_digits_is_a_400(api_client):
    document = json.dumps({"firstname": "Ada", "options": {"custom_fields": [{"name": "n", "value": 0}]}})
    document = document.replace('"value": 0', '"value": ' + "9" * 5000)

    body = assert_problem(post_raw(api_client, document), 400)

    assert body["type"].endswith("/malformed-json")
    assert Customer.objects.count() == 0


def test_a_huge_query_string_on_a_create_is_ignored_not_a_500(api_client):
    response = api_client.post(f"{CUSTOMERS}?{'x' * 200_000}=1", {"firstname": "Ada"}, format="json")

    assert response.status_code == 201


def test_thousands_of_query_parameters_are_a_400_problem_not_a_500(api_client):
    query = "&".join(f"p{i}=1" for i in range(5_000))
    customer_id = api_client.post(CUSTOMERS, {"firstname": "Ada"}, format="json").json()["customer_id"]

    for response in (
        api_client.get(f"{CUSTOMERS}?{query}"),
        api_client.get(f"{CUSTOMERS}/{customer_id}?{query}"),
    ):
        assert response.status_code < 500, response.content[:300]
        assert response.status_code in (200, 400)


# --- wrong types in every field --------------------------------------------------------------------------------

WRONG_TYPES = {"number": 42, "float": 1.5, "boolean": True, "list": ["Ada"], "object": {"a": "b"}}
STRING_FIELDS = ("firstname", "lastname", "email", "company", "address_country")


@pytest.mark.parametrize("field", STRING_FIELDS)
@pytest.mark.parametrize("kind", WRONG_TYPES)
def test_a_wrong_json_type_in_a_string_field_is_a_400_naming_it(api_client, field, kind):
    payload = {"company": "Acme", field: WRONG_TYPES[kind]}
    before = rows()

    body = assert_problem(api_client.post(CUSTOMERS, payload, format="json"), 400)

    assert field in error_fields(body)
    assert rows() == before


@pytest.mark.parametrize(
    ("path", "payload"),
    [
        ("options", {"options": "custom_fields"}),
        ("options", {"options": ["custom_fields"]}),
        ("options.custom_fields", {"options": {"custom_fields": {"name": "a", "value": "b"}}}),
        ("options.custom_fields", {"options": {"custom_fields": "a=b"}}),
        ("options.custom_fields[0]", {"options": {"custom_fields": ["a"]}}),
        ("options.custom_fields[0]", {"options": {"custom_fields": [None]}}),
        ("options.custom_fields[0].name", {"options": {"custom_fields": [{"name": 7, "value": "b"}]}}),
        ("options.custom_fields[0].name", {"options": {"custom_fields": [{"name": ["a"], "value": "b"}]}}),
        ("options.custom_fields[0].type", {"options": {"custom_fields": [{"name": "a", "type": 1, "value": "1"}]}}),
        ("options.custom_fields[0].type", {"options": {"custom_fields": [{"name": "a", "type": [], "value": "1"}]}}),
        ("options.custom_fields[0].value", {"options": {"custom_fields": [{"name": "a", "value": []}]}}),
        ("options.custom_fields[0].value", {"options": {"custom_fields": [{"name": "a", "value": {}}]}}),
    ],
)
def test_a_wrong_json_type_in_options_is_a_400_naming_the_exact_place(api_client, path, payload):
    before = rows()

    body = assert_problem(api_client.post(CUSTOMERS, {"firstname": "Ada", **payload}, format="json"), 400)

    assert path in error_fields(body)
    assert rows() == before


@pytest.mark.parametrize("document", ["null", "[]", '"Ada"', "42", "true", '[{"firstname": "Ada"}]'])
def test_a_body_that_is_not_an_object_is_a_400(api_client, document):
    body = assert_problem(post_raw(api_client, document), 400)

    assert body["errors"][0]["field"] is None
    assert Customer.objects.count() == 0


# --- every write door: create, merge patch, replace, bulk item ---------------------------------------------------

WRITE_DOORS = ("create", "patch", "put", "bulk")


@pytest.fixture
def existing(api_client):
    """The id of a customer of the API client's merchant."""
    body = {
        "firstname": "Grace",
        "email": "grace@example.com",
        "options": {"custom_fields": [{"name": "t", "value": "1"}]},
    }
    customer_id = api_client.post(CUSTOMERS, body, format="json").json()["customer_id"]
    return customer_id


def send(client, door: str, payload, customer_id: str):
    """Send `payload` through `door`; return (status, problem body or the bulk item's result)."""
    # json.dumps escapes lone surrogates as \ud800, as a client in any language would send them.
    if door == "create":
        response = client.generic("POST", CUSTOMERS, json.dumps(payload), content_type="application/json")
    elif door == "patch":
        response = client.generic(
            "PATCH", f"{CUSTOMERS}/{customer_id}", json.dumps(payload), content_type="application/json"
        )
    elif door == "put":
        response = client.generic(
            "PUT", f"{CUSTOMERS}/{customer_id}", json.dumps(payload), content_type="application/json"
        )
    else:
        response = client.generic(
            "POST", f"{CUSTOMERS}/bulk", json.dumps({"customers": [payload]}), content_type="application/json"
        )
        assert response.status_code == 207, response.content[:300]
        result = response.json()["results"][0]
        return result["status"], result
    assert response.status_code < 500, response.content[:300]
    if response.status_code >= 400:
        assert response["Content-Type"] == "application/problem+json"
    return response.status_code, response.json() if response.content else {}


def snapshot(client, customer_id: str) -> dict:
    return client.get(f"{CUSTOMERS}/{customer_id}").json()["data"]


@pytest.mark.parametrize("door", WRITE_DOORS)
@pytest.mark.parametrize("field", READ_ONLY_FIELDS)
def test_read_only_fields_are_rejected_by_every_write_and_never_applied(
    api_client, other_merchant, existing, door, field
):
    forged = {
        "customer_id": "00000000-0000-4000-8000-000000000001",
        "merchant_id": str(other_merchant.pk),
        "created_at": "2000-01-01T00:00:00Z",
        "updated_at": "2000-01-01T00:00:00Z",
    }[field]
    before, stored = rows(), snapshot(api_client, existing)

    status, body = send(api_client, door, {"lastname": "Hopper", field: forged}, existing)

    assert status == 400
    assert field in error_fields(body)
    assert rows() == before
    assert snapshot(api_client, existing) == stored
    assert not Customer.objects.filter(merchant=other_merchant).exists()
    assert not Customer.objects.filter(pk="00000000-0000-4000-8000-000000000001").exists()


HOSTILE_PAYLOADS = {
    "nested-in-a-field": ({"firstname": [[[[[[["x"]]]]]]]}, "firstname"),
    "nul-byte": ({"lastname": "Hop\x00per"}, "lastname"),
    "lone-surrogate": ({"company": "Acme \ud800"}, "company"),
    "10000-custom-fields": (
        {"options": {"custom_fields": [{"name": f"f{i}", "value": "v"} for i in range(10_000)]}},
        "options.custom_fields",
    ),
    "custom-field-value-object": ({"options": {"custom_fields": [{"name": "a", "value": {"b": 1}}]}}, None),
    "huge-string": ({"company": "x" * 300_000}, "company"),
    "country-number": ({"address_country": 840}, "address_country"),
    "options-list": ({"options": [{"name": "a", "value": "b"}]}, "options"),
}


@pytest.mark.parametrize("door", WRITE_DOORS)
@pytest.mark.parametrize("case", HOSTILE_PAYLOADS)
def test_hostile_values_are_a_400_through_every_write_and_change_nothing(api_client, existing, door, case):
    payload, field = HOSTILE_PAYLOADS[case]
    if door != "patch":
        payload = {"firstname": "Ada", **payload} if "firstname" not in payload else payload
    before, stored = rows(), snapshot(api_client, existing)

    status, body = send(api_client, door, payload, existing)

    assert status == 400
    fields = error_fields(body)
    assert fields
    assert field is None or field in fields, fields
    assert rows() == before
    assert snapshot(api_client, existing) == stored


@pytest.mark.parametrize("door", ["patch", "put"])
def test_a_deeply_nested_update_body_is_a_400_not_a_500(api_client, existing, door):
    response = api_client.generic(
        door.upper(), f"{CUSTOMERS}/{existing}", "[" * 100_000 + "]" * 100_000, content_type="application/json"
    )

    assert_problem(response, 400)


def test_a_bulk_body_nested_too_deeply_is_a_400_not_a_500(api_client):
    document = '{"customers": ' + "[" * 100_000 + "]" * 100_000 + "}"

    assert_problem(post_raw(api_client, document, f"{CUSTOMERS}/bulk"), 400)
    assert Customer.objects.count() == 0


def test_a_bulk_of_10000_items_is_one_clear_error_and_creates_nothing(api_client):
    response = api_client.post(f"{CUSTOMERS}/bulk", {"customers": [{"firstname": "A"}] * 10_000}, format="json")

    body = assert_problem(response, 400)
    assert "customers" in error_fields(body)
    assert Customer.objects.count() == 0


# --- list limits -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("limit", ["100000", "0", "-1", "1e3", "abc", "", "99999999999999999999999999"])
def test_an_out_of_range_or_malformed_limit_is_a_400_naming_it(api_client, limit):
    if limit == "":
        assert api_client.get(f"{CUSTOMERS}?limit=").status_code in (200, 400)
        return
    body = assert_problem(api_client.get(f"{CUSTOMERS}?limit={limit}"), 400)

    assert "limit" in error_fields(body)


@pytest.mark.parametrize(
    "query",
    [
        "q=" + "a" * 100_000,
        "email=" + "a" * 100_000,
        "company=" + "%00" * 10,
        "q=%ED%A0%80",  # a UTF-8-encoded lone surrogate
        "cursor=" + "A" * 50_000,
        "created_after=" + "9" * 5_000,
        "custom_fields[" + "n" * 10_000 + "]=1",
        "custom_fields[a]=" + "v" * 100_000,
    ],
    ids=["q", "email", "nul", "surrogate", "cursor", "created_after", "custom-field-name", "custom-field-value"],
)
def test_huge_or_hostile_list_queries_are_answered_without_a_500(api_client, other_api_client, query):
    other_api_client.post(CUSTOMERS, {"firstname": "Other"}, format="json")

    response = api_client.get(f"{CUSTOMERS}?{query}")

    assert response.status_code in (200, 400), response.content[:300]
    if response.status_code == 200:
        assert response.json()["data"] == []
    else:
        assert response["Content-Type"] == "application/problem+json"
        assert response.json()["errors"]


@pytest.mark.parametrize("parameter", ["q", "email", "company", "address_country", "custom_fields[tier]"])
def test_a_nul_character_in_any_list_filter_is_a_400_on_every_database(api_client, parameter):
    body = assert_problem(api_client.get(f"{CUSTOMERS}?{parameter}=a%00b"), 400)

    assert parameter in error_fields(body)


@pytest.mark.parametrize(
    "moment", ["0149-11-04T23:20:39.98+22:21", "0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00"]
)
def test_created_filters_with_extreme_offsets_or_years_are_answered_not_a_500(api_client, moment):
    for parameter in ("created_after", "created_before"):
        response = api_client.get(CUSTOMERS, {parameter: moment})

        assert response.status_code == 200, response.content[:300]
