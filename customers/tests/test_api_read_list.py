"""GET /api/v1/customers/{id} and GET /api/v1/customers: retrieve, keyset pagination, filters, isolation."""

import base64
import datetime
import json
import re
import uuid

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from customers.models import Customer
from tests.api_helpers import URL, assert_problem, create, detail_url, error_fields
from tests.factories import CustomerFactory, CustomFieldFactory

UTC = datetime.UTC


def list_ids(client, **params) -> list[str]:
    response = client.get(URL, params)
    assert response.status_code == 200, response.content
    return [item["customer_id"] for item in response.json()["data"]]


def walk(client, limit: int, after_each_page=None, **params) -> tuple[list[str], int]:
    """Every customer id, following next_cursor; returns (ids, pages)."""
    ids, cursor, pages = [], None, 0
    while True:
        query = {**params, "limit": limit, **({"cursor": cursor} if cursor else {})}
        response = client.get(URL, query)
        assert response.status_code == 200, response.content
        body = response.json()
        pages += 1
        ids += [item["customer_id"] for item in body["data"]]
        if after_each_page:
            after_each_page()
        if not body["has_more"]:
            assert body["next_cursor"] is None
            return ids, pages
        cursor = body["next_cursor"]


def at(day: int, hour: int = 12) -> datetime.datetime:
    return datetime.datetime(2026, 3, day, hour, tzinfo=UTC)


def customer_at(merchant, when: datetime.datetime, **fields) -> Customer:
    customer = CustomerFactory(merchant=merchant, **fields)
    Customer.objects.filter(pk=customer.pk).update(created_at=when)
    return customer


# --- retrieve -----------------------------------------------------------------------------------


def test_retrieving_a_customer_answers_its_id_and_data_with_an_etag(api_client):
    created = create(
        api_client,
        {"firstname": "Ada", "address_country": "gbr", "options": {"custom_fields": [{"name": "tier", "value": 3}]}},
    )

    response = api_client.get(detail_url(created["customer_id"]))

    assert response.status_code == 200
    assert response.json() == created
    assert response["ETag"].startswith('"')
    assert response["ETag"].endswith('"')
    assert response["Content-Type"] == "application/json"


@pytest.mark.parametrize("suffix", ["", "/"])
def test_retrieve_works_with_and_without_trailing_slash(api_client, suffix):
    created = create(api_client)

    response = api_client.get(detail_url(created["customer_id"]) + suffix)

    assert response.status_code == 200
    assert response.json()["customer_id"] == created["customer_id"]


def test_unknown_malformed_and_other_merchants_ids_are_the_same_404(api_client, other_api_client):
    others = create(other_api_client)["customer_id"]
    bodies = []
    for customer_id in (uuid.uuid4(), "not-a-uuid", others, "0" * 40, "%20"):
        body = assert_problem(api_client.get(detail_url(customer_id)), 404, "not-found")
        bodies.append((body["title"], body["detail"]))

    assert len(set(bodies)) == 1


# --- list and keyset pagination -----------------------------------------------------------------


def test_the_list_is_newest_first_with_the_documented_body(api_client, merchant):
    older = customer_at(merchant, at(1))
    newer = customer_at(merchant, at(2))

    response = api_client.get(URL)

    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"data", "has_more", "next_cursor"}
    assert [c["customer_id"] for c in body["data"]] == [str(newer.pk), str(older.pk)]
    assert body["has_more"] is False
    assert body["next_cursor"] is None
    assert set(body["data"][0]) >= {"customer_id", "merchant_id", "firstname", "options", "created_at"}


@pytest.mark.parametrize("path", [URL, URL + "/"])
def test_the_list_works_with_and_without_trailing_slash(api_client, merchant, path):
    CustomerFactory(merchant=merchant)

    assert api_client.get(path).status_code == 200


def test_the_default_page_holds_20_customers(api_client, merchant):
    CustomerFactory.create_batch(21, merchant=merchant)

    body = api_client.get(URL).json()

    assert len(body["data"]) == 20
    assert body["has_more"] is True


def test_walking_250_customers_sees_each_once_while_new_ones_are_inserted(api_client, merchant):
    customers = CustomerFactory.create_batch(250, merchant=merchant)
    # Groups of three share a created_at, so the customer_id tie-break is exercised.
    start = at(1)
    for index, customer in enumerate(customers):
        Customer.objects.filter(pk=customer.pk).update(created_at=start + datetime.timedelta(seconds=index // 3))
    expected = [
        str(pk)
        for pk in Customer.objects.filter(merchant=merchant).order_by("-created_at", "-pk").values_list("pk", flat=True)
    ]
    inserted = []

    def insert_one():
        inserted.append(create(api_client, {"firstname": f"New {len(inserted)}"})["customer_id"])

    seen, pages = walk(api_client, limit=7, after_each_page=insert_one)

    assert seen == expected  # same order, no gaps, no repeats
    assert pages == 36
    assert not set(inserted) & set(seen)
    # The inserted customers are there for the next walk, newest first.
    assert list_ids(api_client, limit=len(inserted)) == inserted[::-1]


@pytest.mark.parametrize("limit", ["1", "100"])
def test_limit_accepts_1_to_100(api_client, merchant, limit):
    CustomerFactory.create_batch(3, merchant=merchant)

    assert len(list_ids(api_client, limit=limit)) == min(int(limit), 3)


@pytest.mark.parametrize("limit", ["0", "101", "-1", "abc", "2.5", "٣"])
def test_a_limit_outside_1_to_100_is_a_400_naming_limit(api_client, limit):
    assert error_fields(api_client.get(URL, {"limit": limit})) == {"limit": ["invalid_limit"]}


@pytest.mark.parametrize("cursor", ["garbage", "W10", "eyJhIjoxfQ", "!!!"])
def test_a_cursor_that_is_not_ours_is_a_400_naming_cursor(api_client, cursor):
    assert error_fields(api_client.get(URL, {"cursor": cursor})) == {"cursor": ["invalid_cursor"]}


def _cursor(created: str) -> str:
    raw = json.dumps([created, str(uuid.uuid4())]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def test_a_cursor_with_an_offset_postgresql_cannot_store_still_pages(api_client, merchant):
    CustomerFactory(merchant=merchant, firstname="Ada")

    response = api_client.get(URL, {"cursor": _cursor("2999-01-01T00:00:00+22:21")})

    assert response.status_code == 200
    assert [c["firstname"] for c in response.json()["data"]] == ["Ada"]


def test_a_cursor_before_the_first_representable_moment_is_a_400_naming_cursor(api_client):
    response = api_client.get(URL, {"cursor": _cursor("0001-01-01T00:00:00+01:00")})

    assert error_fields(response) == {"cursor": ["invalid_cursor"]}


def test_an_unknown_query_parameter_is_a_400_with_a_suggestion(api_client):
    body = assert_problem(api_client.get(URL, {"emial": "a@example.com"}), 400, "validation-error")

    assert body["errors"][0]["field"] == "emial"
    assert body["errors"][0]["code"] == "unknown_parameter"
    assert "Did you mean 'email'?" in body["errors"][0]["message"]


def test_a_parameter_given_twice_is_a_400(api_client):
    response = api_client.get(URL + "?email=a@example.com&email=b@example.com")

    assert error_fields(response) == {"email": ["duplicate_parameter"]}


def test_every_bad_parameter_is_reported_at_once(api_client):
    response = api_client.get(URL, {"limit": "0", "created_after": "yesterday", "address_country": "XX"})

    assert error_fields(response) == {
        "limit": ["invalid_limit"],
        "created_after": ["invalid_datetime"],
        "address_country": ["invalid_country"],
    }


@pytest.mark.parametrize("name", ["bad name", "", "é", "x" * 65])
def test_a_custom_field_name_no_field_can_have_matches_no_customer(api_client, merchant, name):
    # The schema cannot restrict deepObject key names (OpenAPI 3.0), so such a name is a valid
    # request (schemathesis checks that) whose answer is simply empty.
    CustomFieldFactory(customer=CustomerFactory(merchant=merchant), name="tier", value="1")

    assert list_ids(api_client, **{f"custom_fields[{name}]": "1"}) == []


# --- filters -------------------------------------------------------------------------------------


def test_email_filter_is_exact_and_case_insensitive(api_client, merchant):
    ada = CustomerFactory(merchant=merchant, email="ada@example.com")
    CustomerFactory(merchant=merchant, email="ada@example.com.au")
    CustomerFactory(merchant=merchant, email="grace@example.com")

    assert list_ids(api_client, email="Ada@Example.com") == [str(ada.pk)]


def test_q_matches_any_name_field_case_insensitively(api_client, merchant):
    by_first = customer_at(merchant, at(1), firstname="Lovelace", lastname="X", email=None)
    by_last = customer_at(merchant, at(2), firstname="Y", lastname="LOVELACE", email=None)
    by_email = customer_at(merchant, at(3), firstname="Z", lastname="Z", email="ada.lovelace@example.com")
    by_company = customer_at(merchant, at(4), firstname=None, lastname=None, email=None, company="Lovelace Ltd")
    customer_at(merchant, at(5), firstname="Grace", lastname="Hopper", email=None)

    assert list_ids(api_client, q="lovelace") == [str(c.pk) for c in (by_company, by_email, by_last, by_first)]


def test_q_treats_like_wildcards_literally(api_client, merchant):
    percent = CustomerFactory(merchant=merchant, company="100% Cotton")
    CustomerFactory(merchant=merchant, company="1000 Cottons")

    assert list_ids(api_client, q="100%") == [str(percent.pk)]


def test_company_filter_is_exact_and_case_insensitive(api_client, merchant):
    acme = CustomerFactory(merchant=merchant, company="Acme Ltd")
    CustomerFactory(merchant=merchant, company="Acme Ltd Holdings")

    assert list_ids(api_client, company="acme ltd") == [str(acme.pk)]


def test_address_country_filter_takes_any_letter_case(api_client, merchant):
    british = CustomerFactory(merchant=merchant, address_country="GBR")
    CustomerFactory(merchant=merchant, address_country="USA")
    CustomerFactory(merchant=merchant, address_country=None)

    assert list_ids(api_client, address_country="gbr") == [str(british.pk)]


def test_created_after_is_inclusive_and_created_before_exclusive(api_client, merchant):
    day1, day2, day3 = (customer_at(merchant, at(day)) for day in (1, 2, 3))

    assert list_ids(api_client, created_after=at(2).isoformat()) == [str(day3.pk), str(day2.pk)]
    assert list_ids(api_client, created_before=at(2).isoformat()) == [str(day1.pk)]
    assert list_ids(api_client, created_after="2026-03-02", created_before="2026-03-03") == [str(day2.pk)]


@pytest.mark.parametrize(
    "value",
    ["2026-03-02T12:00:00Z", "2026-03-02T14:00:00+02:00", "2026-03-02T14:00:00 02:00", "2026-03-02 12:00:00"],
)
def test_created_after_understands_iso_8601_offsets_even_with_an_unencoded_plus(api_client, merchant, value):
    customer_at(merchant, at(2, hour=11))
    later = customer_at(merchant, at(2, hour=12))

    assert list_ids(api_client, created_after=value) == [str(later.pk)]


def test_custom_field_filter_matches_name_and_exact_value(api_client, merchant):
    gold = CustomerFactory(merchant=merchant)
    CustomFieldFactory(customer=gold, name="tier", value="gold")
    silver = CustomerFactory(merchant=merchant)
    CustomFieldFactory(customer=silver, name="tier", value="silver")
    other_name = CustomerFactory(merchant=merchant)
    CustomFieldFactory(customer=other_name, name="level", value="gold")

    assert list_ids(api_client, **{"custom_fields[tier]": "gold"}) == [str(gold.pk)]


def test_custom_field_filter_finds_values_as_stored_by_the_api(api_client):
    created = create(
        api_client,
        {"firstname": "Ada", "options": {"custom_fields": [{"name": "vip", "type": "boolean", "value": True}]}},
    )

    assert list_ids(api_client, **{"custom_fields[vip]": "true"}) == [created["customer_id"]]


def test_filters_combine_with_and(api_client, merchant):
    match = customer_at(merchant, at(3), firstname="Ada", company="Acme", address_country="GBR")
    CustomFieldFactory(customer=match, name="tier", value="gold")
    CustomFieldFactory(customer=match, name="region", value="north")
    near_misses = [
        customer_at(merchant, at(3), firstname="Ada", company="Acme", address_country="USA"),
        customer_at(merchant, at(1), firstname="Ada", company="Acme", address_country="GBR"),
        # A fixed surname and email: a random one such as "Adams" would match q="ada".
        customer_at(
            merchant,
            at(3),
            firstname="Grace",
            lastname="Hopper",
            email="grace@example.com",
            company="Acme",
            address_country="GBR",
        ),
    ]
    for customer in near_misses:
        CustomFieldFactory(customer=customer, name="tier", value="gold")
        CustomFieldFactory(customer=customer, name="region", value="north")
    only_one_field = customer_at(merchant, at(3), firstname="Ada", company="Acme", address_country="GBR")
    CustomFieldFactory(customer=only_one_field, name="tier", value="gold")

    ids = list_ids(
        api_client,
        q="ada",
        company="ACME",
        address_country="GBR",
        created_after="2026-03-02",
        **{"custom_fields[tier]": "gold", "custom_fields[region]": "north"},
    )

    assert ids == [str(match.pk)]


def test_filtered_lists_paginate_too(api_client, merchant):
    wanted = {str(CustomerFactory(merchant=merchant, company="Acme").pk) for _ in range(5)}
    CustomerFactory.create_batch(5, merchant=merchant, company="Globex")

    ids, pages = walk(api_client, limit=2, company="acme")

    assert set(ids) == wanted
    assert len(ids) == 5
    assert pages == 3


def test_empty_filter_values_are_ignored(api_client, merchant):
    CustomerFactory.create_batch(2, merchant=merchant)

    assert len(list_ids(api_client, email="", q=" ", company="", address_country="", created_after="")) == 2


def test_reads_see_a_write_at_once(api_client):
    created = create(api_client, {"email": "fresh@example.com"})

    assert list_ids(api_client, email="fresh@example.com") == [created["customer_id"]]


# --- isolation ------------------------------------------------------------------------------------


def test_another_merchants_customers_never_appear_in_lists_or_filters(api_client, merchant, other_merchant):
    mine = CustomerFactory(merchant=merchant, email="shared@example.com", company="Shared", address_country="GBR")
    CustomFieldFactory(customer=mine, name="tier", value="gold")
    theirs = CustomerFactory(
        merchant=other_merchant, email="shared@example.com", company="Shared", address_country="GBR"
    )
    CustomFieldFactory(customer=theirs, name="tier", value="gold")

    for params in (
        {},
        {"email": "shared@example.com"},
        {"q": "shared"},
        {"company": "shared"},
        {"address_country": "GBR"},
        {"created_after": "2000-01-01"},
        {"custom_fields[tier]": "gold"},
    ):
        assert list_ids(api_client, **params) == [str(mine.pk)], params


def test_a_cursor_from_another_merchant_shows_only_your_own_customers(
    api_client, other_api_client, merchant, other_merchant
):
    CustomerFactory.create_batch(3, merchant=other_merchant)
    mine = CustomerFactory(merchant=merchant)
    Customer.objects.filter(pk=mine.pk).update(created_at=at(1))
    their_cursor = other_api_client.get(URL, {"limit": 1}).json()["next_cursor"]

    assert list_ids(api_client, cursor=their_cursor) == [str(mine.pk)]


# --- cost -----------------------------------------------------------------------------------------


def _queries_for(client, params) -> list[str]:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(URL, params).status_code == 200
    return [q["sql"] for q in captured.captured_queries]


def test_list_queries_stay_flat_as_pages_and_custom_fields_grow(api_client, merchant, django_assert_num_queries):
    small = CustomerFactory.create_batch(2, merchant=merchant)
    for customer in small:
        CustomFieldFactory(customer=customer)
    baseline = len(_queries_for(api_client, {"limit": 2}))

    for customer in CustomerFactory.create_batch(100, merchant=merchant):
        CustomFieldFactory(customer=customer, name="tier", value="gold")
        CustomFieldFactory.create_batch(9, customer=customer)
    with django_assert_num_queries(baseline):
        body = api_client.get(URL, {"limit": 100}).json()
    assert len(body["data"]) == 100
    with django_assert_num_queries(baseline):
        assert api_client.get(URL, {"limit": 100, "cursor": body["next_cursor"]}).status_code == 200
    with django_assert_num_queries(baseline):
        filtered = api_client.get(URL, {"limit": 50, "q": "example", "custom_fields[tier]": "gold"}).json()
    assert len(filtered["data"]) == 50


def test_a_list_page_uses_no_offset_and_no_count(api_client, merchant):
    CustomerFactory.create_batch(5, merchant=merchant)
    cursor = api_client.get(URL, {"limit": 2}).json()["next_cursor"]

    customer_queries = [
        sql for sql in _queries_for(api_client, {"limit": 2, "cursor": cursor}) if "customers_customer" in sql
    ]

    assert customer_queries
    assert not [sql for sql in customer_queries if "OFFSET" in sql.upper() or "COUNT(" in sql.upper()]


def test_retrieve_queries_stay_flat_as_custom_fields_grow(api_client, merchant, django_assert_num_queries):
    few = CustomerFactory(merchant=merchant)
    CustomFieldFactory(customer=few)
    many = CustomerFactory(merchant=merchant)
    CustomFieldFactory.create_batch(50, customer=many)
    api_client.get(detail_url(few.pk))
    with CaptureQueriesContext(connection) as captured:
        api_client.get(detail_url(few.pk))

    with django_assert_num_queries(len(captured.captured_queries)):
        response = api_client.get(detail_url(many.pk))
    assert len(response.json()["data"]["options"]["custom_fields"]) == 50


def test_white_space_means_what_the_schemas_blank_pattern_means(api_client, merchant):
    """A filter of white space alone is no filter; U+FEFF and \\x1c are no white space to the schema either."""
    CustomerFactory(merchant=merchant)
    parameters = next(
        p
        for p in api_client.get("/api/schema/?format=json").json()["paths"]["/api/v1/customers"]["get"]["parameters"]
        if p["name"] == "created_after"
    )
    blank = re.compile(next(s["pattern"] for s in parameters["schema"]["anyOf"] if "pattern" in s).replace("$", r"\Z"))

    assert "\\s" not in blank.pattern  # \s means other white space in ECMAScript (the schema's dialect) than in Python
    for value in (" \t\u00a0\u3000", "\ufeff", "\x1c"):
        response = api_client.get(URL, {"created_after": value})
        assert (response.status_code == 200) == bool(blank.fullmatch(value)), (repr(value), response.content)
    assert api_client.get(URL, {"created_after": "\u2003"}).status_code == 200
    assert_problem(api_client.get(URL, {"created_after": "\ufeff"}), 400)
