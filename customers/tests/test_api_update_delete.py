"""PATCH (JSON Merge Patch), PUT and DELETE of /api/v1/customers/{id}, with ETag and If-Match."""

import uuid

import pytest

from audit.models import AuditEntry
from customers.models import Customer, CustomField
from events.models import CustomerEvent
from tests.api_helpers import assert_problem, create, detail_url, error_fields, send

ADA = {
    "firstname": "Ada",
    "lastname": "Lovelace",
    "email": "ada@example.com",
    "company": "Analytical Engines",
    "address_country": "GBR",
    "options": {
        "custom_fields": [
            {"name": "tier", "type": "integer", "value": 3},
            {"name": "newsletter", "type": "boolean", "value": True},
            {"name": "note", "value": "likes tea"},
        ]
    },
}


@pytest.fixture
def ada(api_client) -> dict:
    return create(api_client, ADA)


def patch(client, customer_id, body, **headers):
    return send(client, "patch", detail_url(customer_id), body, **headers)


def put(client, customer_id, body, **headers):
    return send(client, "put", detail_url(customer_id), body, **headers)


def fields_of(data) -> dict[str, tuple[str, str]]:
    return {f["name"]: (f["type"], f["value"]) for f in data["options"]["custom_fields"]}


def stored(customer_id) -> Customer:
    return Customer.objects.get(pk=customer_id)


# --- PATCH: JSON Merge Patch ---------------------------------------------------------------------


def test_patch_sets_present_fields_and_keeps_absent_ones(api_client, ada):
    response = patch(api_client, ada["customer_id"], {"email": "ada@lovelace.example", "address_country": "usa"})

    assert response.status_code == 200, response.content
    data = response.json()["data"]
    assert data["email"] == "ada@lovelace.example"
    assert data["address_country"] == "USA"
    assert (data["firstname"], data["lastname"], data["company"]) == ("Ada", "Lovelace", "Analytical Engines")
    assert fields_of(data) == fields_of(ada["data"])
    assert response.json()["customer_id"] == ada["customer_id"]


def test_patch_with_null_clears_a_field(api_client, ada):
    data = patch(api_client, ada["customer_id"], {"company": None, "address_country": None}).json()["data"]

    assert data["company"] is None
    assert data["address_country"] is None
    assert stored(ada["customer_id"]).company is None


def test_patch_with_a_blank_string_clears_a_field_like_null(api_client, ada):
    data = patch(api_client, ada["customer_id"], {"lastname": "   "}).json()["data"]

    assert data["lastname"] is None


def test_patch_merges_custom_fields_by_name(api_client, ada):
    response = patch(
        api_client,
        ada["customer_id"],
        {
            "options": {
                "custom_fields": [
                    {"name": "tier", "type": "integer", "value": 4},  # replaced
                    {"name": "newsletter", "value": None},  # removed
                    {"name": "vip_since", "type": "date", "value": "2024-01-31"},  # added
                ]
            }
        },
    )

    assert response.status_code == 200, response.content
    assert fields_of(response.json()["data"]) == {
        "tier": ("integer", "4"),
        "note": ("string", "likes tea"),
        "vip_since": ("date", "2024-01-31"),
    }
    assert [f["name"] for f in response.json()["data"]["options"]["custom_fields"]] == ["tier", "note", "vip_since"]


def test_a_replaced_custom_field_takes_the_type_given_or_string(api_client, ada):
    data = patch(api_client, ada["customer_id"], {"options": {"custom_fields": [{"name": "tier", "value": "gold"}]}})

    assert fields_of(data.json()["data"])["tier"] == ("string", "gold")


def test_removing_a_custom_field_that_does_not_exist_changes_nothing(api_client, ada):
    response = patch(
        api_client, ada["customer_id"], {"options": {"custom_fields": [{"name": "absent", "value": None}]}}
    )

    assert response.status_code == 200
    assert response["ETag"] == api_client.get(detail_url(ada["customer_id"]))["ETag"]
    assert stored(ada["customer_id"]).version == 1


@pytest.mark.parametrize("options", [None, {"custom_fields": None}])
def test_null_options_or_null_custom_fields_remove_every_custom_field(api_client, ada, options):
    response = patch(api_client, ada["customer_id"], {"options": options})

    assert response.status_code == 200, response.content
    assert response.json()["data"]["options"]["custom_fields"] == []
    assert not CustomField.objects.filter(customer_id=ada["customer_id"]).exists()


def test_empty_options_keep_the_custom_fields(api_client, ada):
    response = patch(api_client, ada["customer_id"], {"options": {}})

    assert fields_of(response.json()["data"]) == fields_of(ada["data"])


def test_an_empty_patch_changes_nothing_and_keeps_the_version(api_client, ada):
    before = api_client.get(detail_url(ada["customer_id"]))

    response = patch(api_client, ada["customer_id"], {})

    assert response.status_code == 200
    assert response.json() == before.json()
    assert response["ETag"] == before["ETag"]
    assert not CustomerEvent.objects.filter(customer_id=ada["customer_id"], type="customer.updated").exists()


def test_a_patch_that_changes_something_bumps_the_etag_and_records_an_event(api_client, ada):
    before = api_client.get(detail_url(ada["customer_id"]))["ETag"]

    response = patch(api_client, ada["customer_id"], {"firstname": "Augusta"})

    assert response["ETag"] != before
    assert response.json()["data"]["updated_at"] >= ada["data"]["updated_at"]
    event = CustomerEvent.objects.get(customer_id=ada["customer_id"], type="customer.updated")
    assert event.payload["firstname"] == "Augusta"
    audit = AuditEntry.objects.get(customer_id=ada["customer_id"], action="updated")
    assert audit.changed_fields == ["firstname"]
    assert audit.door == "api"


def test_clearing_the_last_name_field_is_a_400_and_changes_nothing(api_client):
    only_email = create(
        api_client, {"email": "solo@example.com", "options": {"custom_fields": [{"name": "a", "value": "1"}]}}
    )

    response = patch(
        api_client,
        only_email["customer_id"],
        {"email": None, "address_country": "USA", "options": {"custom_fields": [{"name": "a", "value": None}]}},
    )

    assert error_fields(response) == {None: ["required_one_of"]}
    customer = stored(only_email["customer_id"])
    assert customer.email == "solo@example.com"
    assert customer.address_country is None
    assert customer.custom_fields.count() == 1


def test_clearing_all_four_name_fields_at_once_is_a_400(api_client, ada):
    response = patch(
        api_client, ada["customer_id"], {"firstname": None, "lastname": None, "email": None, "company": ""}
    )

    assert error_fields(response) == {None: ["required_one_of"]}


def test_clearing_some_name_fields_is_fine_while_one_remains(api_client, ada):
    response = patch(api_client, ada["customer_id"], {"firstname": None, "lastname": None, "email": None})

    assert response.status_code == 200
    assert response.json()["data"]["company"] == "Analytical Engines"


def test_patch_applies_every_create_rule_and_reports_every_error(api_client, ada):
    response = patch(
        api_client,
        ada["customer_id"],
        {
            "email": "not-an-email",
            "address_country": "GB",
            "first_name": "Ada",
            "options": {"custom_fields": [{"name": "tier", "type": "integer", "value": "three"}]},
        },
    )

    assert error_fields(response) == {
        "email": ["invalid_email"],
        "address_country": ["invalid_country"],
        "first_name": ["unknown_field"],
        "options.custom_fields[0].value": ["invalid_value"],
    }
    assert stored(ada["customer_id"]).email == "ada@example.com"


def test_a_patch_that_would_exceed_50_custom_fields_is_a_400(api_client):
    full = create(
        api_client,
        {"firstname": "Ada", "options": {"custom_fields": [{"name": f"f{i}", "value": "x"} for i in range(50)]}},
    )

    response = patch(
        api_client, full["customer_id"], {"options": {"custom_fields": [{"name": "one_more", "value": "x"}]}}
    )

    assert error_fields(response) == {"options.custom_fields": ["max_items"]}
    assert CustomField.objects.filter(customer_id=full["customer_id"]).count() == 50


@pytest.mark.parametrize("body", ["[1, 2]", '"text"', "null", "42"])
def test_a_patch_body_that_is_not_an_object_is_a_400(api_client, ada, body):
    assert error_fields(patch(api_client, ada["customer_id"], body)) == {None: ["invalid_type"]}


def test_malformed_json_in_a_patch_is_a_400(api_client, ada):
    assert_problem(patch(api_client, ada["customer_id"], '{"firstname": '), 400, "malformed-json")


def test_patch_accepts_the_merge_patch_media_type(api_client, ada):
    response = patch(
        api_client, ada["customer_id"], {"company": "Difference Engines"}, content_type="application/merge-patch+json"
    )

    assert response.status_code == 200, response.content
    assert response.json()["data"]["company"] == "Difference Engines"


def test_a_patch_in_another_media_type_is_a_415(api_client, ada):
    response = api_client.patch(detail_url(ada["customer_id"]), "firstname=Eve", content_type="text/plain")

    assert_problem(response, 415)


@pytest.mark.parametrize("suffix", ["", "/"])
def test_patch_works_with_and_without_trailing_slash(api_client, ada, suffix):
    response = send(api_client, "patch", detail_url(ada["customer_id"]) + suffix, {"firstname": "Augusta"})

    assert response.status_code == 200


# --- PUT: replace with create semantics -----------------------------------------------------------


def test_put_replaces_the_whole_record(api_client, ada):
    response = put(
        api_client,
        ada["customer_id"],
        {"email": "new@example.com", "options": {"custom_fields": [{"name": "x", "value": 1}]}},
    )

    assert response.status_code == 200, response.content
    data = response.json()["data"]
    assert data["email"] == "new@example.com"
    assert (data["firstname"], data["lastname"], data["company"], data["address_country"]) == (None, None, None, None)
    assert fields_of(data) == {"x": ("string", "1")}
    assert data["customer_id"] == ada["customer_id"]
    assert data["created_at"] == ada["data"]["created_at"]


def test_put_without_options_removes_every_custom_field(api_client, ada):
    data = put(api_client, ada["customer_id"], {"firstname": "Ada"}).json()["data"]

    assert data["options"]["custom_fields"] == []


def test_put_follows_the_create_rules(api_client, ada):
    response = put(api_client, ada["customer_id"], {"address_country": "GBR"})

    assert error_fields(response) == {None: ["required_one_of"]}
    assert stored(ada["customer_id"]).firstname == "Ada"


def test_put_rejects_null_custom_field_values_like_create(api_client, ada):
    response = put(
        api_client,
        ada["customer_id"],
        {"firstname": "Ada", "options": {"custom_fields": [{"name": "x", "value": None}]}},
    )

    assert error_fields(response) == {"options.custom_fields[0].value": ["required"]}


# --- ETag and If-Match ------------------------------------------------------------------------------


def test_create_retrieve_and_update_answer_the_same_etag_for_the_same_version(api_client):
    created = send(api_client, "post", "/api/v1/customers", {"firstname": "Ada"})
    fetched = api_client.get(created["Location"])

    assert created["ETag"] == fetched["ETag"]
    updated = patch(api_client, created.json()["customer_id"], {"lastname": "Lovelace"})
    assert updated["ETag"] != created["ETag"]
    assert api_client.get(created["Location"])["ETag"] == updated["ETag"]


def test_two_customers_at_the_same_version_have_different_etags(api_client):
    first = send(api_client, "post", "/api/v1/customers", {"firstname": "Ada"})
    second = send(api_client, "post", "/api/v1/customers", {"firstname": "Ada"})

    assert first["ETag"] != second["ETag"]


@pytest.mark.parametrize("method", ["patch", "put", "delete"])
def test_a_matching_if_match_lets_the_change_through(api_client, ada, method):
    etag = api_client.get(detail_url(ada["customer_id"]))["ETag"]

    response = send(
        api_client,
        method,
        detail_url(ada["customer_id"]),
        None if method == "delete" else {"firstname": "Eve"},
        HTTP_IF_MATCH=etag,
    )

    assert response.status_code in (200, 204), response.content


@pytest.mark.parametrize("method", ["patch", "put", "delete"])
def test_a_stale_if_match_is_a_412_and_changes_nothing(api_client, ada, method):
    stale = api_client.get(detail_url(ada["customer_id"]))["ETag"]
    patch(api_client, ada["customer_id"], {"firstname": "Augusta"})

    response = send(
        api_client,
        method,
        detail_url(ada["customer_id"]),
        None if method == "delete" else {"firstname": "Eve"},
        HTTP_IF_MATCH=stale,
    )

    assert_problem(response, 412, "precondition-failed")
    assert stored(ada["customer_id"]).firstname == "Augusta"


@pytest.mark.parametrize("header", ['"not-the-etag"', "garbage", 'W/"{etag}"', "1"])
def test_an_if_match_that_is_not_the_current_strong_etag_is_a_412(api_client, ada, header):
    etag = api_client.get(detail_url(ada["customer_id"]))["ETag"]

    response = patch(
        api_client, ada["customer_id"], {"firstname": "Eve"}, HTTP_IF_MATCH=header.format(etag=etag.strip('"'))
    )

    assert_problem(response, 412)


def test_if_match_accepts_a_list_and_a_star(api_client, ada):
    etag = api_client.get(detail_url(ada["customer_id"]))["ETag"]

    listed = patch(api_client, ada["customer_id"], {"firstname": "Eve"}, HTTP_IF_MATCH=f'"old", {etag}')
    star = patch(api_client, ada["customer_id"], {"firstname": "Mallory"}, HTTP_IF_MATCH="*")

    assert listed.status_code == 200
    assert star.status_code == 200


def test_the_etag_of_one_customer_does_not_match_another(api_client, ada):
    other = send(api_client, "post", "/api/v1/customers", {"firstname": "Grace"})

    response = patch(api_client, ada["customer_id"], {"firstname": "Eve"}, HTTP_IF_MATCH=other["ETag"])

    assert_problem(response, 412)


# --- DELETE -------------------------------------------------------------------------------------------


def test_delete_answers_204_and_later_calls_get_404(api_client, ada):
    customer_id = ada["customer_id"]

    response = api_client.delete(detail_url(customer_id))

    assert response.status_code == 204
    assert response.content == b""
    assert_problem(api_client.get(detail_url(customer_id)), 404, "not-found")
    assert_problem(patch(api_client, customer_id, {"firstname": "Eve"}), 404)
    assert_problem(put(api_client, customer_id, {"firstname": "Eve"}), 404)
    assert_problem(api_client.delete(detail_url(customer_id)), 404)
    assert customer_id not in [c["customer_id"] for c in api_client.get("/api/v1/customers").json()["data"]]


def test_delete_leaves_no_personal_data_in_the_customer_tables(api_client, ada):
    api_client.delete(detail_url(ada["customer_id"]))

    assert not Customer.objects.filter(pk=ada["customer_id"]).exists()
    assert not CustomField.objects.filter(customer_id=ada["customer_id"]).exists()
    deleted = CustomerEvent.objects.get(customer_id=ada["customer_id"], type="customer.deleted")
    assert "ada@example.com" not in str(deleted.payload)
    assert not [e for e in CustomerEvent.objects.filter(customer_id=ada["customer_id"]) if "Lovelace" in str(e.payload)]


# --- isolation ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "body"),
    [("get", None), ("patch", {"firstname": "Eve"}), ("put", {"firstname": "Eve"}), ("delete", None)],
)
def test_another_merchants_customer_is_a_404_on_every_endpoint(api_client, other_api_client, method, body):
    theirs = create(other_api_client, {"firstname": "Grace", "email": "grace@example.com"})
    etag = other_api_client.get(detail_url(theirs["customer_id"]))["ETag"]

    response = send(api_client, method, detail_url(theirs["customer_id"]), body, HTTP_IF_MATCH=etag)
    unknown = send(api_client, method, detail_url(uuid.uuid4()), body)

    assert_problem(response, 404, "not-found")
    assert response.json()["detail"] == unknown.json()["detail"]
    assert other_api_client.get(detail_url(theirs["customer_id"])).json() == theirs


@pytest.mark.parametrize("method", ["patch", "put", "delete"])
def test_a_malformed_id_is_a_404_on_every_write(api_client, method):
    response = send(api_client, method, detail_url("not-a-uuid"), None if method == "delete" else {"firstname": "Eve"})

    assert_problem(response, 404, "not-found")
