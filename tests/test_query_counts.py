"""The number of queries of a create or a retrieve does not grow with the customer's custom fields.

(The list endpoint's page-size check lives with the list tests.) A correctness test: an N+1 here
would make a customer with 50 custom fields cost 50 more round trips on the checkout path.
"""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from events.models import CustomerEvent


def payload(fields: int) -> dict:
    return {
        "firstname": "Ada",
        "email": "ada@example.com",
        "options": {"custom_fields": [{"name": f"f{i}", "type": "integer", "value": str(i)} for i in range(fields)]},
    }


def queries_of(call) -> int:
    with CaptureQueriesContext(connection) as captured:
        call()
    return len(captured.captured_queries)


def test_creating_a_customer_costs_the_same_queries_with_1_or_50_custom_fields(api_client, django_assert_num_queries):
    api_client.post("/api/v1/customers", payload(1), format="json")  # warm-up: first use of the token
    baseline = queries_of(lambda: api_client.post("/api/v1/customers", payload(1), format="json"))

    with django_assert_num_queries(baseline):
        response = api_client.post("/api/v1/customers", payload(50), format="json")

    assert response.status_code == 201
    assert len(response.json()["data"]["options"]["custom_fields"]) == 50


def test_retrieving_a_customer_costs_the_same_queries_with_1_or_50_custom_fields(api_client, django_assert_num_queries):
    small = api_client.post("/api/v1/customers", payload(1), format="json").json()["customer_id"]
    large = api_client.post("/api/v1/customers", payload(50), format="json").json()["customer_id"]
    baseline = queries_of(lambda: api_client.get(f"/api/v1/customers/{small}"))

    with django_assert_num_queries(baseline):
        response = api_client.get(f"/api/v1/customers/{large}")

    assert response.status_code == 200
    assert [f["name"] for f in response.json()["data"]["options"]["custom_fields"]] == [f"f{i}" for i in range(50)]


def test_an_api_request_loads_the_merchant_in_the_token_query(api_client):
    customer_id = api_client.post("/api/v1/customers", payload(1), format="json").json()["customer_id"]

    with CaptureQueriesContext(connection) as captured:
        response = api_client.get(f"/api/v1/customers/{customer_id}")

    assert response.status_code == 200
    sqls = [query["sql"] for query in captured.captured_queries]
    assert not [sql for sql in sqls if 'FROM "merchants_merchant"' in sql]
    assert [sql for sql in sqls if 'FROM "oauth2_provider_accesstoken"' in sql and "merchants_merchant" in sql]


def test_a_create_never_reads_back_the_custom_fields_it_just_wrote(api_client):
    api_client.post("/api/v1/customers", payload(1), format="json")  # warm-up

    with CaptureQueriesContext(connection) as captured:
        response = api_client.post("/api/v1/customers", payload(3), format="json")

    assert response.status_code == 201
    reads = [q["sql"] for q in captured.captured_queries if 'FROM "customers_customfield"' in q["sql"]]
    assert reads == []
    written = [{"name": f"f{i}", "type": "integer", "value": str(i)} for i in range(3)]
    assert response.json()["data"]["options"]["custom_fields"] == written
    event = CustomerEvent.objects.get(customer_id=response.json()["customer_id"])
    assert event.payload["options"]["custom_fields"] == written


def test_a_retrieve_is_three_queries_token_customer_and_custom_fields(api_client, django_assert_num_queries):
    customer_id = api_client.post("/api/v1/customers", payload(2), format="json").json()["customer_id"]

    with django_assert_num_queries(3):
        response = api_client.get(f"/api/v1/customers/{customer_id}")

    assert response.status_code == 200
    assert len(response.json()["data"]["options"]["custom_fields"]) == 2


@pytest.mark.postgres_only
def test_a_create_on_postgresql_is_three_statements_token_webhook_endpoints_and_one_write(
    api_client, django_assert_num_queries
):
    api_client.post("/api/v1/customers", payload(1), format="json")  # warm-up: first use of the token

    with django_assert_num_queries(3) as captured:
        response = api_client.post("/api/v1/customers", payload(2), format="json")

    assert response.status_code == 201
    write = captured.captured_queries[-1]["sql"]
    for table in ("customer", "customfield", "customerevent", "eventdelivery", "auditentry"):
        assert f'INSERT INTO "customers_{table}"' in write


def test_a_new_rate_limit_window_costs_no_extra_query(api_client, rate_limit_clock, settings):
    """The limiter's counter is not a database query in tests, so no count depends on the clock."""
    settings.API_RATE_LIMIT_WINDOW = 60
    customer_id = api_client.post("/api/v1/customers", payload(1), format="json").json()["customer_id"]
    in_this_window = queries_of(lambda: api_client.get(f"/api/v1/customers/{customer_id}"))

    rate_limit_clock.advance(60)
    first_of_next_window = queries_of(lambda: api_client.get(f"/api/v1/customers/{customer_id}"))

    assert first_of_next_window == in_this_window == 3


PROFILE = {
    "phone": "+44 20 7183 8750",
    "address": {"line1": "10 Downing Street", "city": "London", "postal_code": "SW1A 2AA"},
    "address_country": "GBR",
}


def test_a_phone_and_an_address_cost_a_create_no_query(api_client):
    api_client.post("/api/v1/customers", payload(1), format="json")  # warm-up
    baseline = queries_of(lambda: api_client.post("/api/v1/customers", payload(2), format="json"))

    with CaptureQueriesContext(connection) as captured:
        response = api_client.post("/api/v1/customers", payload(2) | PROFILE, format="json")

    assert response.status_code == 201, response.content
    assert len(captured.captured_queries) == baseline


def test_a_reference_costs_a_create_only_the_savepoint_around_its_write(api_client):
    """The savepoint lets a duplicate reference end in a 409 naming the holder (race-safe), never a 500.

    Only inside a transaction (here the test's; in production an Idempotency-Key's): a plain create runs in
    autocommit, where a failed insert undoes itself (tests/test_reliability_concurrency.py races that way).
    """
    api_client.post("/api/v1/customers", payload(1), format="json")  # warm-up
    with CaptureQueriesContext(connection) as without:
        api_client.post("/api/v1/customers", payload(2), format="json")

    with CaptureQueriesContext(connection) as captured:
        response = api_client.post("/api/v1/customers", payload(2) | {"reference": "CUST-1"}, format="json")

    assert response.status_code == 201, response.content

    def savepoints(queries) -> list[str]:
        return [q["sql"].split()[0] for q in queries if "SAVEPOINT" in q["sql"]]

    assert len(captured.captured_queries) == len(without.captured_queries) + 2
    assert savepoints(captured.captured_queries) == ["SAVEPOINT", *savepoints(without.captured_queries), "RELEASE"]


def test_a_customer_with_the_whole_profile_is_retrieved_in_three_queries(api_client, django_assert_num_queries):
    body = payload(2) | PROFILE | {"reference": "CUST-1"}
    customer_id = api_client.post("/api/v1/customers", body, format="json").json()["customer_id"]

    with django_assert_num_queries(3):
        response = api_client.get(f"/api/v1/customers/{customer_id}")

    assert response.json()["data"]["phone"] == "+442071838750"
