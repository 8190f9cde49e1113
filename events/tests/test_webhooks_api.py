"""/api/v1/webhook-endpoints over HTTP with real client-credentials tokens."""

import hashlib
import hmac
import json

import pytest

from events.models import EventDelivery, WebhookEndpoint
from events.validation import MAX_WEBHOOK_ENDPOINTS
from events.worker import Worker
from tests.api_helpers import assert_problem

URL = "/api/v1/webhook-endpoints"
HOOK = "https://hooks.example.com/vault"


def post(client, body, path=URL):
    return client.post(path, json.dumps(body), content_type="application/json")


def patch(client, path, body):
    return client.patch(path, json.dumps(body), content_type="application/json")


def error_codes(response) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for error in assert_problem(response, 400)["errors"]:
        assert error["message"]
        found.setdefault(error["field"], []).append(error["code"])
    return found


def test_registering_an_endpoint_answers_201_with_its_signing_secret(api_client, merchant):
    response = post(api_client, {"url": HOOK, "description": "CRM sync", "enabled_events": ["customer.created"]})

    assert response.status_code == 201, response.content
    body = response.json()
    endpoint = WebhookEndpoint.objects.get(merchant=merchant)
    assert body == {
        "id": str(endpoint.id),
        "url": HOOK,
        "description": "CRM sync",
        "enabled_events": ["customer.created"],
        "is_active": True,
        "created_at": body["created_at"],
        "updated_at": body["updated_at"],
        "secret": endpoint.secret,
    }
    assert body["secret"].startswith("whsec_")
    assert len(body["secret"]) > 40
    assert response["Location"] == f"{URL}/{endpoint.id}"


def test_enabled_events_default_to_every_event_type(api_client):
    response = post(api_client, {"url": HOOK})

    assert response.status_code == 201, response.content
    assert response.json()["enabled_events"] == ["customer.created", "customer.updated", "customer.deleted"]


def test_the_secret_is_shown_only_once(api_client):
    created = post(api_client, {"url": HOOK}).json()

    retrieved = api_client.get(f"{URL}/{created['id']}")
    listed = api_client.get(URL)

    assert retrieved.status_code == 200
    assert "secret" not in retrieved.json()
    assert created["secret"] not in retrieved.content.decode()
    assert listed.status_code == 200
    assert created["secret"] not in listed.content.decode()


def test_the_list_holds_only_the_merchants_own_endpoints(api_client, other_api_client):
    mine = post(api_client, {"url": HOOK}).json()
    post(other_api_client, {"url": "https://other.example.com/hook"})

    response = api_client.get(URL)

    assert response.status_code == 200
    assert [e["id"] for e in response.json()["data"]] == [mine["id"]]


def test_another_merchants_endpoint_is_a_404(api_client, other_api_client):
    theirs = post(other_api_client, {"url": HOOK}).json()
    path = f"{URL}/{theirs['id']}"

    assert_problem(api_client.get(path), 404)
    assert_problem(patch(api_client, path, {"is_active": False}), 404)
    assert_problem(api_client.delete(path), 404)
    assert WebhookEndpoint.objects.get(pk=theirs["id"]).is_active


def test_a_malformed_endpoint_id_is_a_404(api_client):
    assert_problem(api_client.get(f"{URL}/not-a-uuid"), 404)


def test_patch_changes_only_the_fields_sent(api_client):
    created = post(api_client, {"url": HOOK, "description": "CRM"}).json()

    response = patch(api_client, f"{URL}/{created['id']}", {"enabled_events": ["customer.deleted"], "is_active": False})

    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["url"], body["description"]) == (HOOK, "CRM")
    assert (body["enabled_events"], body["is_active"]) == (["customer.deleted"], False)
    assert "secret" not in body


def test_put_replaces_every_field(api_client):
    created = post(api_client, {"url": HOOK, "description": "CRM", "enabled_events": ["customer.created"]}).json()

    response = api_client.put(
        f"{URL}/{created['id']}", json.dumps({"url": "https://new.example.com/h"}), content_type="application/json"
    )

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["url"] == "https://new.example.com/h"
    assert body["description"] == ""
    assert body["enabled_events"] == ["customer.created", "customer.updated", "customer.deleted"]
    assert WebhookEndpoint.objects.get(pk=created["id"]).secret == created["secret"]


def test_delete_removes_the_endpoint(api_client):
    created = post(api_client, {"url": HOOK}).json()

    response = api_client.delete(f"{URL}/{created['id']}")

    assert response.status_code == 204
    assert not WebhookEndpoint.objects.filter(pk=created["id"]).exists()
    assert_problem(api_client.get(f"{URL}/{created['id']}"), 404)


def test_every_invalid_field_is_reported_at_once_by_path(api_client):
    response = post(
        api_client,
        {"url": "ftp://hooks.example.com/x", "enabled_events": ["customer.created", "invoice.paid"], "colour": "red"},
    )

    assert error_codes(response) == {
        "url": ["invalid_url"],
        "enabled_events[1]": ["unknown_event_type"],
        "colour": ["unknown_field"],
    }
    assert not WebhookEndpoint.objects.exists()


@pytest.mark.parametrize(
    ("body", "field", "code"),
    [
        ({}, "url", "required"),
        ({"url": ""}, "url", "required"),
        ({"url": 42}, "url", "required"),
        ({"url": "not a url"}, "url", "invalid_url"),
        ({"url": HOOK, "enabled_events": []}, "enabled_events", "invalid"),
        ({"url": HOOK, "enabled_events": "customer.created"}, "enabled_events", "invalid"),
        ({"url": HOOK, "is_active": "yes"}, "is_active", "invalid_type"),
        ({"url": HOOK, "description": "x" * 201}, "description", "max_length"),
        ({"url": HOOK, "description": "a\x00b"}, "description", "null_characters_not_allowed"),
        ({"url": HOOK, "description": "\ud800"}, "description", "invalid_unicode"),
        ({"url": HOOK + "/" + "x" * 2000}, "url", "max_length"),
    ],
)
def test_invalid_input_is_a_400_naming_the_field(api_client, body, field, code):
    assert error_codes(post(api_client, body)) == {field: [code]}


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8400/hook",
        "http://localhost/hook",
        "http://10.1.2.3/hook",
        "http://169.254.169.254/latest/meta-data",
        "http://[::1]/hook",
        "https://vault.internal/hook",
    ],
)
def test_an_endpoint_on_a_private_address_is_refused(api_client, url):
    assert error_codes(post(api_client, {"url": url})) == {"url": ["private_address"]}


def test_private_addresses_are_allowed_when_the_setting_says_so(api_client, settings):
    settings.WEBHOOK_ALLOW_PRIVATE_NETWORKS = True

    assert post(api_client, {"url": "http://127.0.0.1:8400/hook"}).status_code == 201


def test_a_merchant_has_at_most_sixteen_endpoints(api_client):
    for i in range(MAX_WEBHOOK_ENDPOINTS):
        assert post(api_client, {"url": f"{HOOK}/{i}"}).status_code == 201

    body = assert_problem(post(api_client, {"url": HOOK}), 400)

    assert body["errors"][0]["code"] == "max_items"


def test_a_read_only_token_can_list_but_not_register(api_client_for, merchant):
    client = api_client_for(merchant, scope="customers:read")

    assert client.get(URL).status_code == 200
    body = assert_problem(post(client, {"url": HOOK}), 403)
    assert body["required_scope"] == "customers:write"
    assert not WebhookEndpoint.objects.exists()


def test_without_a_token_it_is_a_401(anonymous_api_client):
    assert_problem(anonymous_api_client.get(URL), 401)


def test_an_endpoint_registered_through_the_api_gets_later_customer_events(api_client, receiver, settings):
    settings.WEBHOOK_ALLOW_PRIVATE_NETWORKS = True
    settings.GATEWAY_URL = ""
    created = post(api_client, {"url": receiver.url, "enabled_events": ["customer.created"]}).json()
    customer = post(api_client, {"firstname": "Ada"}, path="/api/v1/customers").json()

    Worker().drain()

    [request] = receiver.requests
    assert request.json()["data"]["customer_id"] == customer["customer_id"]
    timestamp = request.headers["Vault-Timestamp"]
    expected = hmac.new(created["secret"].encode(), timestamp.encode() + b"." + request.body, hashlib.sha256)
    assert request.headers["Vault-Signature"] == f"v1={expected.hexdigest()}"
    assert EventDelivery.objects.get(endpoint_id=created["id"]).status == EventDelivery.Status.SUCCEEDED
