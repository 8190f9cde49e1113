"""POST /api/v1/customers/bulk: up to 100 customers, each item on its own, 207 per-item results."""

import pytest

from customers.models import Customer
from events.models import CustomerEvent
from tests.api_helpers import URL, assert_problem, error_fields, send

BULK = URL + "/bulk"


def bulk(client, body, **headers):
    return send(client, "post", BULK, body, **headers)


def test_valid_items_are_created_and_invalid_ones_reported_each_on_its_own(api_client, merchant):
    response = bulk(
        api_client,
        {
            "customers": [
                {"firstname": "Ada"},
                {"email": "not-an-email", "address_country": "XX"},
                {"company": "Acme", "options": {"custom_fields": [{"name": "tier", "type": "integer", "value": 2}]}},
                {},
                "not an object",
            ]
        },
    )

    assert response.status_code == 207, response.content
    results = response.json()["results"]
    assert [(r["index"], r["status"]) for r in results] == [(0, 201), (1, 400), (2, 201), (3, 400), (4, 400)]
    assert {e["field"]: e["code"] for e in results[1]["errors"]} == {
        "email": "invalid_email",
        "address_country": "invalid_country",
    }
    assert results[3]["errors"][0]["code"] == "required_one_of"
    assert results[4]["errors"][0]["code"] == "invalid_type"
    assert "customer_id" not in results[1]
    assert "errors" not in results[0]

    created = {r["customer_id"] for r in results if r["status"] == 201}
    assert set(map(str, Customer.objects.filter(merchant=merchant).values_list("pk", flat=True))) == created
    acme = api_client.get(f"{URL}/{results[2]['customer_id']}").json()["data"]
    assert acme["options"]["custom_fields"] == [{"name": "tier", "type": "integer", "value": "2"}]
    assert CustomerEvent.objects.filter(type="customer.created").count() == 2


def test_bulk_creates_100_customers_in_order(api_client, merchant):
    response = bulk(api_client, {"customers": [{"firstname": f"Customer {i}"} for i in range(100)]})

    assert response.status_code == 207
    results = response.json()["results"]
    assert [r["index"] for r in results] == list(range(100))
    assert all(r["status"] == 201 for r in results)
    names = {str(c.pk): c.firstname for c in Customer.objects.filter(merchant=merchant)}
    assert [names[r["customer_id"]] for r in results] == [f"Customer {i}" for i in range(100)]


@pytest.mark.parametrize("count", [0, 101])
def test_bulk_takes_1_to_100_items_and_creates_nothing_otherwise(api_client, count):
    response = bulk(api_client, {"customers": [{"firstname": "Ada"}] * count})

    assert error_fields(response) == {"customers": ["invalid_length"]}
    assert not Customer.objects.exists()


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ([{"firstname": "Ada"}], {None: ["invalid_type"]}),
        ({}, {"customers": ["required"]}),
        ({"customers": {"firstname": "Ada"}}, {"customers": ["invalid_type"]}),
        ({"customers": [{"firstname": "Ada"}], "cusomers": []}, {"cusomers": ["unknown_field"]}),
    ],
)
def test_a_bulk_body_of_the_wrong_shape_is_a_400_naming_the_field(api_client, body, expected):
    assert error_fields(bulk(api_client, body)) == expected
    assert not Customer.objects.exists()


def test_bulk_works_with_a_trailing_slash(api_client):
    response = send(api_client, "post", BULK + "/", {"customers": [{"firstname": "Ada"}]})

    assert response.status_code == 207


def test_get_on_bulk_is_a_405_not_a_customer_lookup(api_client):
    assert_problem(api_client.get(BULK), 405)


def test_bulk_customers_belong_to_the_tokens_merchant_only(api_client, other_api_client, merchant, other_merchant):
    response = bulk(
        api_client, {"customers": [{"firstname": "Ada", "merchant_id": str(other_merchant.pk)}, {"firstname": "Bob"}]}
    )

    results = response.json()["results"]
    assert results[0]["errors"][0]["field"] == "merchant_id"
    assert Customer.objects.get(pk=results[1]["customer_id"]).merchant == merchant
    assert_problem(other_api_client.get(f"{URL}/{results[1]['customer_id']}"), 404)


def test_an_unexpected_failure_of_one_item_is_reported_for_that_item_alone(api_client, merchant, monkeypatch):
    from customers import bulk as create_many

    real_create = create_many.customer_create

    def create_or_fail(*, data, **kwargs):
        if data.get("firstname") == "Boom":
            raise RuntimeError("disk full")
        return real_create(data=data, **kwargs)

    monkeypatch.setattr(create_many, "customer_create", create_or_fail)

    response = bulk(api_client, {"customers": [{"firstname": "Ada"}, {"firstname": "Boom"}, {"firstname": "Grace"}]})

    assert response.status_code == 207
    results = response.json()["results"]
    assert [r["status"] for r in results] == [201, 500, 201]
    assert results[1]["errors"][0]["code"] == "internal_error"
    assert Customer.objects.filter(merchant=merchant).count() == 2


def test_an_item_that_is_not_an_object_is_reported_as_such_at_its_place(api_client, merchant):
    response = bulk(api_client, {"customers": [{"firstname": "Ada"}, ["Grace"], "Bob"]})

    assert response.status_code == 207, response.content
    results = response.json()["results"]
    assert [r["status"] for r in results] == [201, 400, 400]
    assert results[1]["errors"] == [
        {"field": "customers[1]", "code": "invalid_type", "message": "Each item must be a JSON object."}
    ]
    assert results[2]["errors"][0]["field"] == "customers[2]"
    assert Customer.objects.filter(merchant=merchant).count() == 1


BAD_KEYS = {
    "top-level": '{"firstname": "x", "\\ud800": "y"}',
    "in-options": '{"firstname": "x", "options": {"\\ud800": 1}}',
    "in-a-custom-field": '{"firstname": "x", "options": {"custom_fields": [{"name":"a","value":"b","\\ud800":0}]}}',
    "nul": '{"firstname": "x", "\\u0000": "y"}',
}


@pytest.mark.parametrize("with_key", [False, True], ids=["plain", "idempotency-key"])
@pytest.mark.parametrize("bad_item", BAD_KEYS.values(), ids=BAD_KEYS.keys())
def test_an_item_with_a_lone_surrogate_or_nul_key_is_reported_and_the_others_created(
    api_client, merchant, bad_item, with_key
):
    raw = '{"customers": [{"firstname": "partial-1"}, {"firstname": "partial-2"}, %s]}' % bad_item  # noqa: UP031
    headers = {"HTTP_IDEMPOTENCY_KEY": "surrogate-key"} if with_key else {}

    response = bulk(api_client, raw, **headers)

    assert response.status_code == 207, response.content
    results = response.json()["results"]
    assert [r["status"] for r in results] == [201, 201, 400]
    [error] = results[2]["errors"]
    assert error["code"] == "unknown_field"
    # The key that no UTF-8 text can carry, as U+FFFD.
    assert "\ufffd" in error["field"]
    assert "\ufffd" in error["message"]
    assert sorted(Customer.objects.filter(merchant=merchant).values_list("firstname", flat=True)) == [
        "partial-1",
        "partial-2",
    ]
    if with_key:
        assert bulk(api_client, raw, **headers).content == response.content  # replayed, nothing created twice
        assert Customer.objects.filter(merchant=merchant).count() == 2


def test_a_bulk_answer_that_fails_to_build_is_a_500_that_wrote_nothing(api_client, merchant, monkeypatch):
    def broken(result):
        raise RuntimeError("the answer could not be built")

    monkeypatch.setattr("customers.api.views._bulk_result", broken)

    response = bulk(api_client, {"customers": [{"firstname": "partial-1"}, {"firstname": "partial-2"}]})

    assert_problem(response, 500, "internal-error")
    assert not Customer.objects.filter(merchant=merchant).exists()
    assert not CustomerEvent.objects.exists()
