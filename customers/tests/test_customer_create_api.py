"""POST /api/v1/customers through HTTP with real client-credentials tokens: the rules of a create."""

import json
import time
import uuid

import pytest

from audit.models import AuditEntry
from core.ids import uuid7
from customers.models import Customer, CustomField
from events.models import CustomerEvent
from tests.api_helpers import assert_problem

URL = "/api/v1/customers"
NAME_FIELDS = ("firstname", "lastname", "email", "company")
VALID_VALUES = {"firstname": "Ada", "lastname": "Lovelace", "email": "ada@example.com", "company": "Analytical Ltd"}


def post(client, body, *, path=URL, **extra):
    """POST `body` encoded as JSON (strings are sent as they are, for malformed input)."""
    data = body if isinstance(body, str | bytes) else json.dumps(body)
    return client.post(path, data, content_type="application/json", **extra)


def errors_of(response) -> dict:
    """The 400's errors as {field: [codes]}; asserts each error has a message."""
    body = assert_problem(response, 400)
    found: dict = {}
    for error in body["errors"]:
        assert set(error) == {"field", "code", "message"}
        assert error["message"]
        found.setdefault(error["field"], []).append(error["code"])
    return found


def messages_of(response, field) -> list[str]:
    return [e["message"] for e in response.json()["errors"] if e["field"] == field]


def custom_field(type_, value, name="f"):
    return {"firstname": "Ada", "options": {"custom_fields": [{"name": name, "type": type_, "value": value}]}}


# --- the required-field rule -------------------------------------------------------------------


@pytest.mark.parametrize("field", NAME_FIELDS)
def test_each_name_field_alone_is_enough_to_create_a_customer(api_client, field):
    response = post(api_client, {field: VALID_VALUES[field]})

    assert response.status_code == 201, response.content
    data = response.json()["data"]
    assert data[field] == VALID_VALUES[field]
    assert [data[other] for other in NAME_FIELDS if other != field] == [None, None, None]
    assert Customer.objects.count() == 1


def test_all_four_name_fields_together_are_stored(api_client):
    response = post(api_client, VALID_VALUES)

    assert response.status_code == 201
    customer = Customer.objects.get()
    assert {f: getattr(customer, f) for f in NAME_FIELDS} == VALID_VALUES


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"address_country": "USA"},
        {"options": {"custom_fields": [{"name": "tier", "value": "gold"}]}},
        {"firstname": "", "lastname": "", "email": "", "company": ""},
        {"firstname": "   ", "lastname": "\t", "email": "\n ", "company": " \r\n "},
        {"firstname": None, "lastname": None, "email": None, "company": None},
    ],
    ids=["empty", "country-only", "custom-fields-only", "all-blank", "whitespace-only", "all-null"],
)
def test_a_body_without_any_name_field_is_a_400_and_stores_nothing(api_client, body):
    response = post(api_client, body)

    errors = errors_of(response)
    assert errors == {None: ["required_one_of"]}
    assert "firstname, lastname, email or company" in messages_of(response, None)[0]
    assert Customer.objects.count() == 0
    assert CustomField.objects.count() == 0


@pytest.mark.parametrize("field", NAME_FIELDS)
def test_a_whitespace_only_name_field_does_not_count_even_beside_blank_others(api_client, field):
    response = post(api_client, {field: "   "})

    assert errors_of(response) == {None: ["required_one_of"]}


def test_surrounding_whitespace_is_trimmed_from_every_name_field(api_client):
    response = post(
        api_client,
        {"firstname": "  Ada ", "lastname": "\tLovelace\n", "email": " ada@example.com ", "company": " Acme  Ltd "},
    )

    assert response.status_code == 201
    data = response.json()["data"]
    assert (data["firstname"], data["lastname"], data["email"], data["company"]) == (
        "Ada",
        "Lovelace",
        "ada@example.com",
        "Acme  Ltd",
    )
    assert Customer.objects.get().firstname == "Ada"


def test_a_blank_name_field_beside_a_real_one_is_stored_as_null(api_client):
    response = post(api_client, {"firstname": "Ada", "lastname": "   ", "company": ""})

    assert response.status_code == 201
    assert response.json()["data"]["lastname"] is None
    assert Customer.objects.get().company is None


# --- lengths and email ------------------------------------------------------------------------


def email_of_length(length: int) -> str:
    """A valid address of exactly `length` characters (labels stay within 63)."""
    local = "a" * 64
    domain_length = length - len(local) - 1 - len(".com")
    labels = []
    while domain_length > 0:
        label = min(63, domain_length)
        if domain_length - label == 1:  # never leave a lone dot
            label -= 1
        labels.append("b" * label)
        domain_length -= label + 1
    domain = ".".join(labels) + ".com"
    address = f"{local}@{domain}"
    assert len(address) == length
    return address


@pytest.mark.parametrize(("field", "limit"), [("firstname", 100), ("lastname", 100), ("company", 255)])
def test_a_name_field_at_its_length_limit_is_accepted_and_one_over_is_a_400(api_client, field, limit):
    at_limit = post(api_client, {field: "x" * limit})
    over = post(api_client, {field: "x" * (limit + 1)})

    assert at_limit.status_code == 201
    assert at_limit.json()["data"][field] == "x" * limit
    assert errors_of(over) == {field: ["max_length"]}
    assert f"at most {limit} characters" in messages_of(over, field)[0]
    assert Customer.objects.count() == 1


def test_the_length_limit_applies_after_trimming(api_client):
    response = post(api_client, {"firstname": "   " + "x" * 100 + "   "})

    assert response.status_code == 201
    assert response.json()["data"]["firstname"] == "x" * 100


def test_an_email_of_254_characters_is_accepted_and_255_is_a_400(api_client):
    at_limit = post(api_client, {"email": email_of_length(254)})
    over = post(api_client, {"email": email_of_length(255)})

    assert at_limit.status_code == 201, at_limit.content
    assert "email" in errors_of(over)
    assert errors_of(over)["email"] == ["max_length"]
    assert "at most 254 characters" in messages_of(over, "email")[0]


@pytest.mark.parametrize(
    "email",
    ["not-an-email", "ada@", "@example.com", "ada@example", "ada example@example.com", "ada@@example.com", "ada@.com"],
)
def test_an_invalid_email_is_a_400_naming_the_field(api_client, email):
    response = post(api_client, {"firstname": "Ada", "email": email})

    assert errors_of(response) == {"email": ["invalid_email"]}
    assert messages_of(response, "email") == ["Must be a valid email address."]
    assert Customer.objects.count() == 0


def test_an_invalid_email_alone_reports_the_email_not_a_missing_name(api_client):
    response = post(api_client, {"email": "not-an-email"})

    assert errors_of(response) == {"email": ["invalid_email"]}


# --- address_country --------------------------------------------------------------------------


@pytest.mark.parametrize(("sent", "stored"), [("USA", "USA"), ("gbr", "GBR"), ("dEu", "DEU"), (" fra ", "FRA")])
def test_an_alpha3_country_in_any_case_is_stored_upper_case(api_client, sent, stored):
    response = post(api_client, {"firstname": "Ada", "address_country": sent})

    assert response.status_code == 201
    assert response.json()["data"]["address_country"] == stored
    assert Customer.objects.get().address_country == stored


@pytest.mark.parametrize(
    "country", ["US", "gb", "United States", "Germany", "XYZ", "ZZZ", "840", "U S A", "USAA", "ÜSA"]
)
def test_a_country_that_is_not_an_alpha3_code_is_a_400(api_client, country):
    response = post(api_client, {"firstname": "Ada", "address_country": country})

    assert errors_of(response) == {"address_country": ["invalid_country"]}
    assert "ISO 3166-1 alpha-3" in messages_of(response, "address_country")[0]
    assert Customer.objects.count() == 0


@pytest.mark.parametrize("country", [None, "", "  "])
def test_an_absent_or_blank_country_is_stored_as_null(api_client, country):
    response = post(api_client, {"firstname": "Ada", "address_country": country})

    assert response.status_code == 201
    assert response.json()["data"]["address_country"] is None


# --- custom fields: types and values ----------------------------------------------------------

GOOD_VALUES = [
    ("string", "gold", "gold"),
    ("string", "", ""),
    ("string", 42, "42"),
    ("string", True, "true"),
    ("integer", "42", "42"),
    ("integer", "-7", "-7"),
    ("integer", 42, "42"),
    ("integer", 0, "0"),
    ("number", "3.14", "3.14"),
    ("number", 3.14, "3.14"),
    ("number", "-1e3", "-1e3"),
    ("number", 7, "7"),
    ("boolean", True, "true"),
    ("boolean", False, "false"),
    ("boolean", "true", "true"),
    ("boolean", "false", "false"),
    ("date", "2024-02-29", "2024-02-29"),
    ("datetime", "2024-05-31T14:30:00+02:00", "2024-05-31T14:30:00+02:00"),
    ("datetime", "2024-05-31T14:30:00Z", "2024-05-31T14:30:00Z"),
    ("email", "billing@example.com", "billing@example.com"),
    ("url", "https://example.com/path?q=1", "https://example.com/path?q=1"),
    ("url", "http://example.com", "http://example.com"),
]

BAD_VALUES = [
    ("integer", "42\n"),
    ("integer", "\u0664\u0662"),
    ("number", "3.14\n"),
    ("number", "\u0661.\u0665"),
    ("date", "2024-05-31\n"),
    ("date", "\u0662\u0660\u0662\u0664-05-31"),
    ("datetime", "2024-05-31T14:30:00+02:00\n"),
    ("email", "billing@example.com\n"),
    ("url", "https://example.com\n"),
    ("integer", "4.2"),
    ("integer", "forty-two"),
    ("integer", 4.5),
    ("integer", True),
    ("integer", ""),
    ("number", "three"),
    ("number", "1,5"),
    ("number", "NaN"),
    ("number", "Infinity"),
    ("number", False),
    ("boolean", "yes"),
    ("boolean", 1),
    ("boolean", "TRUE "),
    ("date", "2024-02-30"),
    ("date", "31/05/2024"),
    ("date", "2024-5-1"),
    ("date", 20240531),
    ("datetime", "2024-05-31T14:30:00"),
    ("datetime", "2024-05-31"),
    ("datetime", "yesterday"),
    ("email", "not-an-email"),
    ("email", 5),
    ("url", "example.com"),
    ("url", "ftp://example.com/file"),
    ("url", "javascript:alert(1)"),
]


@pytest.mark.parametrize(("type_", "value", "stored"), GOOD_VALUES)
def test_a_valid_custom_field_value_is_stored_and_returned_as_a_string(api_client, type_, value, stored):
    response = post(api_client, custom_field(type_, value))

    assert response.status_code == 201, response.content
    assert response.json()["data"]["options"]["custom_fields"] == [{"name": "f", "type": type_, "value": stored}]
    row = CustomField.objects.get()
    assert (row.name, row.type, row.value) == ("f", type_, stored)


@pytest.mark.parametrize(("type_", "value"), BAD_VALUES)
def test_an_invalid_custom_field_value_is_a_400_at_its_exact_path(api_client, type_, value):
    body = {
        "firstname": "Ada",
        "options": {
            "custom_fields": [
                {"name": "a", "type": "string", "value": "ok"},
                {"name": "b", "type": "string", "value": "ok"},
                {"name": "c", "type": type_, "value": value},
            ]
        },
    }

    response = post(api_client, body)

    assert errors_of(response) == {"options.custom_fields[2].value": ["invalid_value"]}
    assert messages_of(response, "options.custom_fields[2].value")[0].startswith("Must be")
    assert Customer.objects.count() == 0
    assert CustomField.objects.count() == 0


def test_a_custom_field_without_a_type_is_a_string(api_client):
    response = post(api_client, {"firstname": "Ada", "options": {"custom_fields": [{"name": "tier", "value": 3}]}})

    assert response.status_code == 201
    assert response.json()["data"]["options"]["custom_fields"] == [{"name": "tier", "type": "string", "value": "3"}]


@pytest.mark.parametrize("type_", ["text", "int", "STRING", "", "date-time"])
def test_an_unknown_custom_field_type_is_a_400(api_client, type_):
    response = post(api_client, custom_field(type_, "x"))

    assert errors_of(response) == {"options.custom_fields[0].type": ["invalid_choice"]}
    assert (
        "string, integer, number, boolean, date, datetime, email, url"
        in messages_of(response, "options.custom_fields[0].type")[0]
    )


@pytest.mark.parametrize("value", [None, [], {}, ["a"], {"a": 1}])
def test_a_custom_field_value_that_is_null_a_list_or_an_object_is_a_400(api_client, value):
    response = post(api_client, custom_field("string", value))

    assert set(errors_of(response)) == {"options.custom_fields[0].value"}


@pytest.mark.parametrize("missing", ["name", "value"])
def test_a_custom_field_without_name_or_value_is_a_400(api_client, missing):
    item = {"name": "tier", "type": "string", "value": "gold"}
    del item[missing]

    response = post(api_client, {"firstname": "Ada", "options": {"custom_fields": [item]}})

    assert errors_of(response) == {f"options.custom_fields[0].{missing}": ["required"]}


def test_custom_fields_keep_the_order_they_were_sent_in(api_client):
    fields = [{"name": n, "type": "string", "value": n} for n in ("zeta", "alpha", "mid")]

    response = post(api_client, {"firstname": "Ada", "options": {"custom_fields": fields}})

    assert [f["name"] for f in response.json()["data"]["options"]["custom_fields"]] == ["zeta", "alpha", "mid"]


@pytest.mark.parametrize("name", ["a", "A" * 64, "tier_2", "loyalty-tier", "x.y", "Z9_.-"])
def test_a_custom_field_name_of_letters_digits_and_punctuation_up_to_64_is_accepted(api_client, name):
    response = post(api_client, custom_field("string", "v", name=name))

    assert response.status_code == 201
    assert CustomField.objects.get().name == name


@pytest.mark.parametrize("name", ["", "A" * 65, "with space", "tier!", "naïve", "a/b", " tier", "tier\n", 5, True])
def test_a_custom_field_name_outside_the_rules_is_a_400(api_client, name):
    response = post(api_client, custom_field("string", "v", name=name))

    assert set(errors_of(response)) == {"options.custom_fields[0].name"}
    assert Customer.objects.count() == 0


def test_two_custom_fields_with_the_same_name_are_a_400_on_the_second(api_client):
    fields = [{"name": "tier", "value": "gold"}, {"name": "other", "value": "x"}, {"name": "tier", "value": "silver"}]

    response = post(api_client, {"firstname": "Ada", "options": {"custom_fields": fields}})

    assert errors_of(response) == {"options.custom_fields[2].name": ["duplicate"]}
    assert "Duplicate custom field name 'tier'" in messages_of(response, "options.custom_fields[2].name")[0]


def test_custom_field_names_differing_in_case_are_different_fields(api_client):
    fields = [{"name": "tier", "value": "gold"}, {"name": "Tier", "value": "silver"}]

    response = post(api_client, {"firstname": "Ada", "options": {"custom_fields": fields}})

    assert response.status_code == 201
    assert CustomField.objects.count() == 2


def test_fifty_custom_fields_are_accepted_and_fifty_one_are_a_400(api_client):
    fifty = [{"name": f"f{i}", "value": str(i)} for i in range(50)]
    fifty_one = [*fifty, {"name": "f50", "value": "50"}]

    ok = post(api_client, {"firstname": "Ada", "options": {"custom_fields": fifty}})
    too_many = post(api_client, {"firstname": "Bob", "options": {"custom_fields": fifty_one}})

    assert ok.status_code == 201
    assert len(ok.json()["data"]["options"]["custom_fields"]) == 50
    assert errors_of(too_many) == {"options.custom_fields": ["max_items"]}
    assert "At most 50" in messages_of(too_many, "options.custom_fields")[0]
    assert Customer.objects.count() == 1
    assert CustomField.objects.count() == 50


def test_a_custom_field_value_of_500_characters_is_accepted_and_501_is_a_400(api_client):
    ok = post(api_client, custom_field("string", "v" * 500))
    over = post(api_client, custom_field("string", "v" * 501))

    assert ok.status_code == 201
    assert CustomField.objects.get().value == "v" * 500
    assert errors_of(over) == {"options.custom_fields[0].value": ["max_length"]}


def test_a_custom_field_belongs_to_its_customer_alone(api_client):
    first = post(api_client, custom_field("string", "gold", name="tier"))
    second = post(api_client, {"firstname": "Bob"})

    assert first.status_code == second.status_code == 201
    assert second.json()["data"]["options"]["custom_fields"] == []
    assert CustomField.objects.get().customer_id == uuid.UUID(first.json()["customer_id"])


@pytest.mark.parametrize("options", [None, {}, {"custom_fields": []}, {"custom_fields": None}])
def test_absent_or_empty_options_give_an_empty_custom_field_list(api_client, options):
    response = post(api_client, {"firstname": "Ada", "options": options})

    assert response.status_code == 201
    assert response.json()["data"]["options"] == {"custom_fields": []}


def test_every_error_in_a_body_is_reported_at_once(api_client):
    body = {
        "email": "nope",
        "address_country": "US",
        "options": {
            "custom_fields": [{"name": "ok", "value": "x"}, {"name": "bad name", "type": "integer", "value": "x"}]
        },
    }

    response = post(api_client, body)

    errors = errors_of(response)
    assert errors["email"] == ["invalid_email"]
    assert errors["address_country"] == ["invalid_country"]
    assert errors["options.custom_fields[1].name"] == ["invalid_name"]


# --- unknown fields ---------------------------------------------------------------------------


def test_a_mistyped_first_name_is_a_400_suggesting_firstname_and_creates_nothing(api_client):
    response = post(api_client, {"first_name": "Ada"})

    errors = errors_of(response)
    assert errors["first_name"] == ["unknown_field"]
    assert messages_of(response, "first_name") == ["Unknown field 'first_name'. Did you mean 'firstname'?"]
    assert Customer.objects.count() == 0


def test_an_unknown_top_level_field_beside_valid_ones_is_still_a_400(api_client):
    response = post(api_client, {"firstname": "Ada", "fax": "+44 20 7946 0000"})

    assert errors_of(response) == {"fax": ["unknown_field"]}
    assert messages_of(response, "fax") == ["Unknown field 'fax'."]
    assert Customer.objects.count() == 0


@pytest.mark.parametrize("key", ["customer_id", "merchant_id", "created_at"])
def test_server_assigned_fields_in_the_body_are_unknown_fields(api_client, key):
    response = post(api_client, {"firstname": "Ada", key: str(uuid.uuid4())})

    assert errors_of(response) == {key: ["unknown_field"]}


def test_an_unknown_field_in_options_is_a_400_with_a_suggestion(api_client):
    response = post(api_client, {"firstname": "Ada", "options": {"customfields": []}})

    assert errors_of(response) == {"options.customfields": ["unknown_field"]}
    assert messages_of(response, "options.customfields") == [
        "Unknown field 'customfields'. Did you mean 'custom_fields'?"
    ]


def test_an_unknown_key_in_a_custom_field_is_a_400_with_a_suggestion(api_client):
    body = {
        "firstname": "Ada",
        "options": {"custom_fields": [{"name": "a", "value": "1"}, {"nmae": "b", "value": "2"}]},
    }

    response = post(api_client, body)

    errors = errors_of(response)
    assert errors["options.custom_fields[1].nmae"] == ["unknown_field"]
    assert messages_of(response, "options.custom_fields[1].nmae") == ["Unknown field 'nmae'. Did you mean 'name'?"]
    assert Customer.objects.count() == 0


# --- wrong types in every field ---------------------------------------------------------------

WRONG_TYPES = [5, 1.5, True, False, ["Ada"], {"name": "Ada"}]


@pytest.mark.parametrize("field", [*NAME_FIELDS, "address_country"])
@pytest.mark.parametrize("value", WRONG_TYPES, ids=lambda v: type(v).__name__ + repr(v)[:8])
def test_a_non_string_in_a_text_field_is_a_400(api_client, field, value):
    body = {"company": "Acme", field: value}

    response = post(api_client, body)

    assert errors_of(response)[field] == ["invalid_type"]
    assert messages_of(response, field) == ["Must be a string."]
    assert Customer.objects.count() == 0


@pytest.mark.parametrize("options", ["custom", 5, True, ["custom_fields"]])
def test_options_that_is_not_an_object_is_a_400(api_client, options):
    response = post(api_client, {"firstname": "Ada", "options": options})

    assert errors_of(response) == {"options": ["invalid_type"]}


@pytest.mark.parametrize("custom_fields", ["tier", 5, True, {"name": "tier", "value": "gold"}])
def test_custom_fields_that_is_not_a_list_is_a_400(api_client, custom_fields):
    response = post(api_client, {"firstname": "Ada", "options": {"custom_fields": custom_fields}})

    assert errors_of(response) == {"options.custom_fields": ["invalid_type"]}


@pytest.mark.parametrize("item", ["tier", 5, None, True, ["tier", "gold"]])
def test_a_custom_field_that_is_not_an_object_is_a_400(api_client, item):
    response = post(api_client, {"firstname": "Ada", "options": {"custom_fields": [item]}})

    assert errors_of(response) == {"options.custom_fields[0]": ["invalid_type"]}


@pytest.mark.parametrize("type_", [5, True, ["string"], {"t": "string"}])
def test_a_custom_field_type_that_is_not_a_string_is_a_400(api_client, type_):
    response = post(api_client, custom_field(type_, "x"))

    assert errors_of(response) == {"options.custom_fields[0].type": ["invalid_choice"]}


@pytest.mark.parametrize("name", [["a"], {"a": 1}, 1.5])
def test_a_custom_field_name_that_is_not_a_string_is_a_400(api_client, name):
    response = post(api_client, custom_field("string", "x", name=name))

    assert errors_of(response) == {"options.custom_fields[0].name": ["invalid_type"]}


# --- text that cannot be stored ---------------------------------------------------------------

# Sent as raw JSON text so the escapes reach the server as JSON escapes.
NUL = "\\u0000"
LONE_SURROGATE = "\\ud800"


@pytest.mark.parametrize(
    ("escape", "code"), [(NUL, "null_characters_not_allowed"), (LONE_SURROGATE, "invalid_unicode")]
)
@pytest.mark.parametrize("field", [*NAME_FIELDS, "address_country"])
def test_nul_bytes_and_lone_surrogates_in_a_text_field_are_a_400(api_client, field, escape, code):
    raw = '{"company": "Acme", "%s": "ab%scd"}' % (field, escape)  # noqa: UP031 - raw JSON on purpose

    response = post(api_client, raw)

    assert errors_of(response)[field] == [code]
    assert Customer.objects.count() == 0


@pytest.mark.parametrize(
    ("escape", "code"), [(NUL, "null_characters_not_allowed"), (LONE_SURROGATE, "invalid_unicode")]
)
def test_nul_bytes_and_lone_surrogates_in_a_custom_field_value_are_a_400(api_client, escape, code):
    raw = '{"firstname": "Ada", "options": {"custom_fields": [{"name": "n", "value": "a%sb"}]}}' % escape  # noqa: UP031

    response = post(api_client, raw)

    assert errors_of(response) == {"options.custom_fields[0].value": [code]}


@pytest.mark.parametrize("escape", [NUL, LONE_SURROGATE])
def test_nul_bytes_and_lone_surrogates_in_a_custom_field_name_are_a_400(api_client, escape):
    raw = '{"firstname": "Ada", "options": {"custom_fields": [{"name": "n%s", "value": "v"}]}}' % escape  # noqa: UP031

    response = post(api_client, raw)

    assert set(errors_of(response)) == {"options.custom_fields[0].name"}


@pytest.mark.parametrize("escape", [NUL, LONE_SURROGATE])
def test_an_unknown_key_holding_a_nul_or_lone_surrogate_is_a_clean_400(api_client, escape):
    raw = '{"firstname": "Ada", "x%s": 1, "options": {"y%s": 1}}' % (escape, escape)  # noqa: UP031

    response = post(api_client, raw)

    errors = errors_of(response)
    assert len(errors) == 2
    assert all(codes == ["unknown_field"] for codes in errors.values())


def test_invalid_utf8_bytes_are_a_400(api_client):
    response = post(api_client, b'{"firstname": "\xff\xfe"}')

    assert assert_problem(response, 400)["type"] == "/problems/malformed-json"


# --- the body itself --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw", ['{"firstname": "Ada"', "{'firstname': 'Ada'}", '{"firstname": "Ada",}', "firstname=Ada", "   ", "NaN"]
)
def test_malformed_json_is_a_400_problem(api_client, raw):
    response = post(api_client, raw)

    body = assert_problem(response, 400)
    assert body["type"] == "/problems/malformed-json"
    assert "JSON" in body["detail"]
    assert Customer.objects.count() == 0


@pytest.mark.parametrize("raw", ['[{"firstname": "Ada"}]', '"Ada"', "42", "true", "null"])
def test_a_body_that_is_not_a_json_object_is_a_400(api_client, raw):
    response = post(api_client, raw)

    assert errors_of(response) == {None: ["invalid_type"]}
    assert messages_of(response, None) == ["The request body must be a JSON object."]
    assert Customer.objects.count() == 0


def test_an_empty_body_is_a_400_asking_for_a_name_field(api_client):
    response = api_client.post(URL, b"", content_type="application/json")

    assert errors_of(response) == {None: ["required_one_of"]}


@pytest.mark.parametrize(
    "content_type",
    ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", "application/xml"],
)
def test_a_body_that_is_not_json_is_a_415_problem(api_client, content_type):
    response = api_client.post(URL, '{"firstname": "Ada"}', content_type=content_type)

    body = assert_problem(response, 415)
    assert content_type.split(";")[0] in body["detail"]
    assert Customer.objects.count() == 0


def test_json_with_a_charset_parameter_is_accepted(api_client):
    response = api_client.post(URL, '{"firstname": "Ada"}', content_type="application/json; charset=utf-8")

    assert response.status_code == 201


def test_a_body_larger_than_the_upload_limit_is_a_413_problem(api_client, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    body = json.dumps({"firstname": "Ada", "company": "x" * 2000})

    response = post(api_client, body)

    problem = assert_problem(response, 413)
    assert problem["type"] == "/problems/payload-too-large"
    assert "1000" in problem["detail"]
    assert Customer.objects.count() == 0


def test_a_body_just_under_the_upload_limit_is_parsed(api_client, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    body = json.dumps({"firstname": "Ada", "lastname": "x" * 90}).ljust(1000)

    response = post(api_client, body)

    assert response.status_code == 201


def test_the_default_upload_limit_refuses_a_two_megabyte_body(api_client):
    body = json.dumps({"firstname": "Ada", "options": {"custom_fields": [{"name": "n", "value": "x" * (2 << 20)}]}})

    response = post(api_client, body)

    assert_problem(response, 413)


@pytest.mark.parametrize("method", ["put", "patch", "delete"])
def test_other_methods_on_the_collection_are_a_405_problem(api_client, method):
    response = getattr(api_client, method)(URL, '{"firstname": "Ada"}', content_type="application/json")

    body = assert_problem(response, 405)
    assert method.upper() in body["detail"]
    assert "POST" in response["Allow"]
    assert Customer.objects.count() == 0


def test_options_on_the_collection_answers_the_allowed_methods(api_client):
    response = api_client.options(URL)

    assert response.status_code == 200
    assert "POST" in response["Allow"]
    assert "application/json" in response.json()["parses"]


# --- the response ----------------------------------------------------------------------------


def test_the_201_carries_the_id_location_and_the_whole_customer(api_client, merchant):
    body = {
        "firstname": "Ada",
        "lastname": "Lovelace",
        "email": "ada@example.com",
        "company": "Analytical Engines Ltd",
        "address_country": "gbr",
        "options": {"custom_fields": [{"name": "tier", "type": "string", "value": "gold"}]},
    }

    response = post(api_client, body)

    assert response.status_code == 201
    assert response["Content-Type"] == "application/json"
    payload = response.json()
    customer_id = payload["customer_id"]
    assert uuid.UUID(customer_id).version == 7
    assert response["Location"] == f"/api/v1/customers/{customer_id}"
    data = payload["data"]
    assert set(data) == {
        "customer_id",
        "merchant_id",
        "firstname",
        "lastname",
        "email",
        "company",
        "phone",
        "address",
        "address_country",
        "reference",
        "options",
        "created_at",
        "updated_at",
    }
    assert data["customer_id"] == customer_id
    assert data["merchant_id"] == str(merchant.pk)
    assert data["address_country"] == "GBR"
    assert data["options"] == {"custom_fields": [{"name": "tier", "type": "string", "value": "gold"}]}
    assert data["created_at"].endswith("Z")
    assert data["updated_at"].endswith("Z")
    stored = Customer.objects.get()
    assert str(stored.customer_id) == customer_id
    assert stored.merchant == merchant


def test_fields_the_customer_lacks_are_null(api_client):
    response = post(api_client, {"company": "Acme"})

    data = response.json()["data"]
    assert (data["firstname"], data["lastname"], data["email"], data["address_country"]) == (None, None, None, None)
    assert data["options"] == {"custom_fields": []}


def test_the_location_header_leads_to_the_created_customer(api_client):
    created = post(api_client, {"firstname": "Ada"})

    fetched = api_client.get(created["Location"])

    assert fetched.status_code == 200
    assert fetched.json()["data"] == created.json()["data"]


@pytest.mark.parametrize("path", [URL, URL + "/"])
def test_the_endpoint_answers_with_and_without_a_trailing_slash_without_redirecting(api_client, path):
    response = post(api_client, {"firstname": "Ada"}, path=path)

    assert response.status_code == 201
    assert Customer.objects.count() == 1


def test_duplicate_details_create_a_new_customer_each_time(api_client):
    body = {**VALID_VALUES, "options": {"custom_fields": [{"name": "tier", "value": "gold"}]}}

    first = post(api_client, body)
    second = post(api_client, body)

    assert first.status_code == second.status_code == 201
    assert first.json()["customer_id"] != second.json()["customer_id"]
    assert Customer.objects.filter(email="ada@example.com").count() == 2
    assert CustomField.objects.count() == 2


def test_a_customer_id_in_the_body_is_never_used(api_client):
    chosen = str(uuid.uuid4())

    response = post(api_client, {"firstname": "Ada", "customer_id": chosen})

    assert response.status_code == 400
    assert not Customer.objects.filter(pk=chosen).exists()


def test_the_merchant_comes_from_the_token_not_the_body(api_client, merchant, other_merchant):
    response = post(api_client, {"firstname": "Ada", "merchant_id": str(other_merchant.pk)})

    assert errors_of(response) == {"merchant_id": ["unknown_field"]}
    assert post(api_client, {"firstname": "Ada"}).json()["data"]["merchant_id"] == str(merchant.pk)
    assert not Customer.objects.filter(merchant=other_merchant).exists()


def test_a_create_writes_its_event_and_audit_entry(api_client, merchant):
    response = post(api_client, custom_field("integer", 7, name="visits"))

    customer_id = uuid.UUID(response.json()["customer_id"])
    event = CustomerEvent.objects.get()
    assert (event.type, event.customer_id, event.merchant) == ("customer.created", customer_id, merchant)
    assert event.payload["options"]["custom_fields"] == [{"name": "visits", "type": "integer", "value": "7"}]
    audit = AuditEntry.objects.get()
    assert (audit.action, audit.door, audit.customer_id) == ("created", "api", customer_id)
    assert audit.actor.startswith("client:")
    assert "options.custom_fields.visits" in audit.changed_fields


@pytest.mark.parametrize(
    ("raw_value", "code"),
    [("1" * 600, "max_length"), ("1e400", "invalid_type"), ("-1e400", "invalid_type")],
    ids=["600-digit-integer", "overflowing-float", "overflowing-negative-float"],
)
def test_numbers_too_big_for_a_value_are_a_400_not_a_500(api_client, raw_value, code):
    field = '{"name": "n", "type": "number", "value": %s}' % raw_value  # noqa: UP031 - raw JSON on purpose
    raw = '{"firstname": "Ada", "options": {"custom_fields": [%s]}}' % field  # noqa: UP031

    response = post(api_client, raw)

    assert errors_of(response) == {"options.custom_fields[0].value": [code]}


def test_an_integer_too_long_for_the_json_parser_is_a_400(api_client):
    raw = '{"firstname": "Ada", "options": {"custom_fields": [{"name": "n", "value": %s}]}}' % ("9" * 5000)  # noqa: UP031

    response = post(api_client, raw)

    assert assert_problem(response, 400)["type"] == "/problems/malformed-json"


def test_customer_and_event_ids_are_time_ordered_uuid7(api_client, monkeypatch):
    first = api_client.post("/api/v1/customers", {"firstname": "Ada"}, format="json").json()["customer_id"]
    monkeypatch.setattr("time.time_ns", lambda real=time.time_ns: real() + 5_000_000)  # 5 ms later
    second = api_client.post("/api/v1/customers", {"firstname": "Grace"}, format="json").json()["customer_id"]

    ids = [uuid.UUID(first), uuid.UUID(second)]
    assert [i.version for i in ids] == [7, 7]
    assert ids[0] < ids[1]
    events = CustomerEvent.objects.filter(customer_id__in=ids).order_by("id")
    assert [e.event_id.version for e in events] == [7, 7]
    assert events[0].event_id < events[1].event_id


def test_uuid7_puts_the_unix_milliseconds_in_its_first_48_bits_and_is_random_after():
    before = time.time_ns() // 1_000_000
    ids = [uuid7() for _ in range(1000)]
    after = time.time_ns() // 1_000_000

    assert all(before <= i.int >> 80 <= after for i in ids)
    assert all(i.version == 7 and i.variant == uuid.RFC_4122 for i in ids)
    assert len(set(ids)) == 1000
