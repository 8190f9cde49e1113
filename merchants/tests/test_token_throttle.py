"""The endpoints that check a client secret (/o/token/, /o/revoke_token/): throttled without locking
the owner out, capped, and answering malformed requests with a 400 (security report, items 4, 10, 12)."""

import base64
import datetime
import json

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.utils import timezone
from oauth2_provider.models import get_access_token_model
from openapi_schema_validator import OAS30Validator

from merchants.models import OAuthClient
from merchants.services import oauth_client_create

pytestmark = pytest.mark.django_db

TOKEN_URL = "/o/token/"
REVOKE_URL = "/o/revoke_token/"
ATTACKER = "203.0.113.9"
OWNER = "198.51.100.7"
AccessToken = get_access_token_model()


@pytest.fixture(autouse=True)
def failure_limit(settings):
    settings.TOKEN_FAILURE_LIMIT = 5
    settings.TOKEN_FAILURE_WINDOW = 300
    settings.TOKEN_FAILURE_ADDRESS_LIMIT = 100
    return 5


def basic(client_id: str, secret: str) -> str:
    return "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()


def ask_token(client_id: str, secret: str, address: str = OWNER, how: str = "basic", **extra):
    data = {"grant_type": "client_credentials"}
    if how == "basic":
        extra["HTTP_AUTHORIZATION"] = basic(client_id, secret)
    else:
        data.update(client_id=client_id, client_secret=secret)
    return Client(REMOTE_ADDR=address).post(TOKEN_URL, data, **extra)


def revoke(client_id: str, secret: str, token: str = "no-such-token", address: str = OWNER):
    return Client(REMOTE_ADDR=address).post(REVOKE_URL, {"token": token}, HTTP_AUTHORIZATION=basic(client_id, secret))


def assert_slow_down(response, longest_wait: int = 300) -> dict:
    assert response.status_code == 429, response.content
    assert response["Content-Type"] == "application/json"
    assert 1 <= int(response["Retry-After"]) <= longest_wait
    assert response["Cache-Control"] == "no-store"
    body = response.json()
    assert body["error"] == "slow_down"
    return body


# --- item 4: guessing is slowed down, the owner is never locked out ---------------------------------


@pytest.mark.parametrize("how", ["basic", "form"])
@pytest.mark.parametrize("guesser", [ATTACKER, OWNER], ids=["from-another-address", "from-its-own-address"])
def test_the_owners_right_secret_gets_a_token_after_20_wrong_ones(issued_client, how, guesser):
    client_id = issued_client.client.client_id
    for _ in range(20):
        assert ask_token(client_id, "wrong", guesser, how).status_code in (401, 429)

    response = ask_token(client_id, issued_client.client_secret, OWNER, how)

    assert response.status_code == 200, response.content
    assert response.json()["access_token"]


def test_wrong_secrets_from_one_address_are_slowed_down_while_another_address_still_gets_401(
    issued_client, failure_limit
):
    client_id = issued_client.client.client_id
    for _ in range(failure_limit):
        assert ask_token(client_id, "wrong", ATTACKER).status_code == 401

    body = assert_slow_down(ask_token(client_id, "wrong", ATTACKER))
    assert "Retry in" in body["error_description"]
    assert ask_token(client_id, "wrong", OWNER).status_code == 401


def test_failures_from_one_address_count_whichever_way_the_client_authenticates(issued_client, failure_limit):
    client_id = issued_client.client.client_id
    for attempt in range(failure_limit):
        assert ask_token(client_id, "wrong", ATTACKER, "basic" if attempt % 2 else "form").status_code == 401

    assert_slow_down(ask_token(client_id, "wrong", ATTACKER, "basic"))


def test_the_right_secret_after_a_slow_down_clears_the_count_of_its_address(issued_client, failure_limit):
    client_id = issued_client.client.client_id
    for _ in range(failure_limit + 2):
        ask_token(client_id, "wrong", OWNER)
    assert ask_token(client_id, issued_client.client_secret, OWNER).status_code == 200

    assert ask_token(client_id, "wrong", OWNER).status_code == 401


def test_spraying_many_client_ids_from_one_address_is_slowed_down_too(settings, db):
    settings.TOKEN_FAILURE_ADDRESS_LIMIT = 8
    for number in range(8):
        assert ask_token(f"guess-{number}", "guess", ATTACKER).status_code == 401

    assert_slow_down(ask_token("guess-new", "guess", ATTACKER))
    assert ask_token("guess-new", "guess", OWNER).status_code == 401


def test_spraying_from_the_owners_address_still_lets_the_owner_in(settings, issued_client):
    settings.TOKEN_FAILURE_ADDRESS_LIMIT = 8
    for number in range(12):
        ask_token(f"guess-{number}", "guess", OWNER)

    assert ask_token(issued_client.client.client_id, issued_client.client_secret, OWNER).status_code == 200


# --- one authentication method per request (RFC 6749 section 2.3) --------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        {"client_id": "real-id", "client_secret": "guess"},
        {"client_secret": "guess"},
        {"client_id": "real-id"},
    ],
    ids=["id-and-secret", "secret-only", "other-id"],
)
def test_client_credentials_in_both_the_basic_header_and_the_body_are_a_400(issued_client, body):
    body = {key: issued_client.client.client_id if value == "real-id" else value for key, value in body.items()}

    response = Client(REMOTE_ADDR=ATTACKER).post(
        TOKEN_URL, {"grant_type": "client_credentials", **body}, HTTP_AUTHORIZATION=basic("random-id", "x")
    )

    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"
    assert "one way" in response.json()["error_description"]
    assert not AccessToken.objects.exists()


def test_mixed_credentials_are_not_counted_against_either_client_id(issued_client, failure_limit):
    client_id = issued_client.client.client_id
    for _ in range(failure_limit * 3):
        response = Client(REMOTE_ADDR=ATTACKER).post(
            TOKEN_URL,
            {"grant_type": "client_credentials", "client_id": client_id, "client_secret": "guess"},
            HTTP_AUTHORIZATION=basic("random-id", "x"),
        )
        assert response.status_code == 400

    assert ask_token(client_id, "wrong", ATTACKER).status_code == 401
    assert ask_token("random-id", "x", ATTACKER).status_code == 401


def test_the_right_secret_in_the_header_with_the_same_client_id_in_the_body_gets_a_token(issued_client):
    client_id = issued_client.client.client_id

    response = Client().post(
        TOKEN_URL,
        {"grant_type": "client_credentials", "client_id": client_id},
        HTTP_AUTHORIZATION=basic(client_id, issued_client.client_secret),
    )

    assert response.status_code == 200, response.content


def test_a_revocation_with_credentials_in_both_places_is_a_400(issued_client):
    response = Client().post(
        REVOKE_URL,
        {"token": "t", "client_id": issued_client.client.client_id, "client_secret": "guess"},
        HTTP_AUTHORIZATION=basic("random-id", "x"),
    )

    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"


# --- the revocation endpoint checks secrets too: the same throttle --------------------------------------


def test_the_revocation_endpoint_slows_down_wrong_secrets_like_the_token_endpoint(issued_client, failure_limit):
    client_id = issued_client.client.client_id
    for _ in range(failure_limit):
        assert revoke(client_id, "wrong", address=ATTACKER).status_code == 401

    assert_slow_down(revoke(client_id, "wrong", address=ATTACKER))
    assert revoke(client_id, "wrong", address=OWNER).status_code == 401


def test_failures_at_either_endpoint_add_up(issued_client, failure_limit):
    client_id = issued_client.client.client_id
    for attempt in range(failure_limit):
        ask = revoke if attempt % 2 else ask_token
        assert ask(client_id, "wrong", address=ATTACKER).status_code == 401

    assert_slow_down(ask_token(client_id, "wrong", ATTACKER))


def test_the_owner_revokes_a_token_after_20_wrong_secrets_from_its_own_address(issued_client):
    client_id = issued_client.client.client_id
    token = ask_token(client_id, issued_client.client_secret).json()["access_token"]
    for _ in range(20):
        revoke(client_id, "wrong", address=OWNER)

    assert revoke(client_id, issued_client.client_secret, token, address=OWNER).status_code == 200
    assert not AccessToken.objects.exists()


def test_token_introspection_is_not_exposed(issued_client):
    response = Client().post("/o/introspect/", {"token": "t"}, HTTP_AUTHORIZATION=basic("a", "b"))

    assert response.status_code == 404


# --- item 10: caps on API clients per merchant and live tokens per client --------------------------------


def test_a_merchant_cannot_have_more_than_the_maximum_number_of_api_clients(settings, merchant):
    settings.MAX_API_CLIENTS_PER_MERCHANT = 3
    for number in range(3):
        oauth_client_create(merchant=merchant, name=f"client {number}")

    with pytest.raises(ValidationError) as refused:
        oauth_client_create(merchant=merchant, name="one too many")

    assert "at most 3 API clients" in " ".join(refused.value.messages)
    assert refused.value.error_list[0].code == "too_many_clients"
    assert OAuthClient.objects.filter(merchant=merchant).count() == 3


def test_the_client_cap_counts_each_merchant_on_its_own(settings, merchant, other_merchant):
    settings.MAX_API_CLIENTS_PER_MERCHANT = 1
    oauth_client_create(merchant=merchant)

    assert oauth_client_create(merchant=other_merchant).client.merchant == other_merchant


def test_the_portal_shows_the_client_cap_beside_the_form_with_a_400(settings, portal_admin_client, merchant):
    settings.MAX_API_CLIENTS_PER_MERCHANT = 1
    oauth_client_create(merchant=merchant, name="Checkout server")

    response = portal_admin_client.post("/portal/credentials/", {"name": "Another server"})

    assert response.status_code == 400
    html = response.content.decode()
    assert "at most 1 API clients" in html
    assert 'role="alert"' in html
    assert "Checkout server" in html
    assert OAuthClient.objects.filter(merchant=merchant).count() == 1


def test_a_client_at_the_live_token_cap_gets_429_telling_it_to_reuse_its_token(settings, issued_client):
    settings.MAX_LIVE_TOKENS_PER_CLIENT = 3
    client_id, secret = issued_client.client.client_id, issued_client.client_secret
    for _ in range(3):
        assert ask_token(client_id, secret).status_code == 200

    response = ask_token(client_id, secret)

    body = assert_slow_down(response, longest_wait=3600)
    assert "Reuse" in body["error_description"]
    assert "expires_in" in body["error_description"]
    assert 3500 <= int(response["Retry-After"]) <= 3600
    assert AccessToken.objects.filter(application=issued_client.client).count() == 3


def test_the_token_cap_is_per_client(settings, merchant, issued_client):
    settings.MAX_LIVE_TOKENS_PER_CLIENT = 1
    assert ask_token(issued_client.client.client_id, issued_client.client_secret).status_code == 200
    other = oauth_client_create(merchant=merchant, name="Other")

    assert ask_token(other.client.client_id, other.client_secret).status_code == 200


def test_hitting_the_token_cap_is_not_a_failed_authentication(settings, issued_client, failure_limit):
    settings.MAX_LIVE_TOKENS_PER_CLIENT = 1
    client_id, secret = issued_client.client.client_id, issued_client.client_secret
    for _ in range(failure_limit + 2):
        ask_token(client_id, secret)

    assert ask_token(client_id, "wrong").status_code == 401


def test_expired_tokens_are_pruned_when_a_token_is_issued_and_do_not_count_against_the_cap(
    settings, merchant, issued_client
):
    settings.MAX_LIVE_TOKENS_PER_CLIENT = 2
    past = timezone.now() - datetime.timedelta(seconds=1)
    for number in range(5):
        AccessToken.objects.create(application=issued_client.client, token=f"old-{number}", expires=past, scope="x")
    other = oauth_client_create(merchant=merchant, name="Other")
    AccessToken.objects.create(application=other.client, token="other-old", expires=past, scope="x")

    assert ask_token(issued_client.client.client_id, issued_client.client_secret).status_code == 200

    mine = AccessToken.objects.filter(application=issued_client.client)
    assert mine.count() == 1
    assert mine.get().expires > timezone.now()
    assert AccessToken.objects.filter(application=other.client).count() == 1  # pruned when that client asks


def test_revoking_a_token_frees_a_place_under_the_cap(settings, issued_client):
    settings.MAX_LIVE_TOKENS_PER_CLIENT = 1
    client_id, secret = issued_client.client.client_id, issued_client.client_secret
    token = ask_token(client_id, secret).json()["access_token"]
    assert ask_token(client_id, secret).status_code == 429

    assert revoke(client_id, secret, token).status_code == 200

    assert ask_token(client_id, secret).status_code == 200


# --- item 12: malformed requests, deactivated merchants, the documented errors ---------------------------


@pytest.mark.parametrize("url", [TOKEN_URL, REVOKE_URL])
@pytest.mark.parametrize("content_type", ["multipart/form-data", "multipart/form-data; boundary="])
def test_a_multipart_body_without_a_boundary_is_a_400_invalid_request(db, url, content_type):
    response = Client().post(url, b"grant_type=client_credentials", content_type=content_type)

    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"
    assert response.json()["error"] == "invalid_request"
    assert response["Cache-Control"] == "no-store"


@pytest.mark.parametrize("url", [TOKEN_URL, REVOKE_URL])
def test_a_basic_header_that_is_not_ascii_is_a_400_invalid_request(db, url):
    response = Client().post(url, {"grant_type": "client_credentials", "token": "t"}, HTTP_AUTHORIZATION="Basic é")

    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"


def test_a_multipart_body_with_a_boundary_still_works(issued_client):
    response = Client().post(
        TOKEN_URL,
        {"grant_type": "client_credentials"},  # the test client encodes a dict as multipart
        HTTP_AUTHORIZATION=basic(issued_client.client.client_id, issued_client.client_secret),
    )

    assert response.status_code == 200, response.content


@pytest.mark.parametrize("how", ["basic", "form"])
def test_a_deactivated_merchants_client_gets_401_invalid_client_at_the_token_endpoint(merchant, issued_client, how):
    merchant.is_active = False
    merchant.save()

    response = ask_token(issued_client.client.client_id, issued_client.client_secret, how=how)

    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"
    assert "not active" in response.json()["error_description"]
    assert not AccessToken.objects.exists()


def test_a_deactivated_merchants_client_is_not_slowed_down_for_its_right_secret(merchant, issued_client, failure_limit):
    merchant.is_active = False
    merchant.save()
    for _ in range(failure_limit + 2):
        ask_token(issued_client.client.client_id, issued_client.client_secret)
    merchant.is_active = True
    merchant.save()

    assert ask_token(issued_client.client.client_id, "wrong").status_code == 401


def test_the_token_endpoints_real_error_answers_fit_its_documented_schema(settings, merchant, issued_client):
    settings.MAX_LIVE_TOKENS_PER_CLIENT = 1
    schema = json.loads(Client().get("/api/schema/", {"format": "json"}).content)
    client_id, secret = issued_client.client.client_id, issued_client.client_secret
    for _ in range(5):
        ask_token(client_id, "wrong", ATTACKER)
    answers = [
        ask_token(client_id, "wrong", ATTACKER),  # 429, failed authentications
        ask_token(client_id, secret),
        ask_token(client_id, secret),  # 429, token cap
        Client().post(TOKEN_URL, b"x", content_type="multipart/form-data"),  # 400
        Client().post(
            TOKEN_URL,
            {"grant_type": "client_credentials", "client_secret": "x"},
            HTTP_AUTHORIZATION=basic(client_id, secret),
        ),  # 400, mixed
    ]
    merchant.is_active = False
    merchant.save()
    answers.append(ask_token(client_id, secret))  # 401, deactivated

    assert [answer.status_code for answer in answers] == [429, 200, 429, 400, 400, 401]
    operation = schema["paths"][TOKEN_URL]["post"]
    for answer in answers:
        documented = operation["responses"][str(answer.status_code)]["content"]["application/json"]["schema"]
        if "$ref" in documented:
            documented = schema["components"]["schemas"][documented["$ref"].rsplit("/", 1)[1]]
        OAS30Validator(documented).validate(answer.json())
    assert "Retry-After" in operation["responses"]["429"]["headers"]


# --- item 12: PATCH of a webhook endpoint without a body ------------------------------------------------


@pytest.fixture
def endpoint_url(api_client) -> str:
    body = json.dumps({"url": "https://hooks.example.com/vault"})
    created = api_client.post("/api/v1/webhook-endpoints", body, content_type="application/json")
    assert created.status_code == 201, created.content
    return f"/api/v1/webhook-endpoints/{created.json()['id']}"


@pytest.mark.parametrize("content_type", [None, "application/json"])
def test_a_webhook_endpoint_patch_without_a_body_is_a_400_problem(api_client, endpoint_url, content_type):
    extra = {"content_type": content_type} if content_type else {}

    response = api_client.generic("PATCH", endpoint_url, "", **extra)

    assert response.status_code == 400, response.content
    assert response["Content-Type"] == "application/problem+json"
    assert "empty" in response.json()["detail"]


def test_a_webhook_endpoint_patch_with_an_empty_object_changes_nothing_like_a_customer_patch(api_client, endpoint_url):
    before = api_client.get(endpoint_url).json()

    response = api_client.patch(endpoint_url, "{}", content_type="application/json")

    assert response.status_code == 200
    assert response.json()["url"] == before["url"]


@pytest.mark.parametrize("path", [TOKEN_URL, REVOKE_URL])
def test_the_token_endpoints_take_a_post_without_a_csrf_token_as_every_api_client_sends_it(issued_client, path):
    # Django's test client skips CSRF checks unless told to; real clients never have a CSRF token.
    client = Client(enforce_csrf_checks=True)
    data = {"grant_type": "client_credentials"} if path == TOKEN_URL else {"token": "no-such-token"}

    response = client.post(
        path, data, HTTP_AUTHORIZATION=basic(issued_client.client.client_id, issued_client.client_secret)
    )

    assert response.status_code == 200, response.content
