"""Who may call the API: client-credentials tokens from /o/token/, checked on POST /api/v1/customers."""

import base64
import datetime
import json

import pytest
from django.utils import timezone
from oauth2_provider.models import get_access_token_model
from rest_framework.test import APIClient

from customers.models import Customer
from merchants.services import oauth_client_create, oauth_client_revoke
from tests.api_helpers import assert_problem
from tests.credentials import fetch_token

URL = "/api/v1/customers"
AccessToken = get_access_token_model()


def basic(client_id: str, secret: str) -> str:
    return "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()


def create_with(authorization: str | None, body=None, **extra):
    client = APIClient()
    if authorization is not None:
        extra["HTTP_AUTHORIZATION"] = authorization
    data = json.dumps(body if body is not None else {"firstname": "Ada"})
    return client.post(URL, data, content_type="application/json", **extra)


def assert_unauthorized(response, *, invalid_token: bool) -> dict:
    problem = assert_problem(response, 401, "unauthorized")
    challenge = response["WWW-Authenticate"]
    assert challenge.startswith("Bearer ")
    assert 'realm="api"' in challenge
    assert ('error="invalid_token"' in challenge) is invalid_token
    assert Customer.objects.count() == 0
    return problem


@pytest.fixture
def access_token(issued_client) -> str:
    return fetch_token(issued_client.client.client_id, issued_client.client_secret)["access_token"]


# --- the token endpoint ------------------------------------------------------------------------


def test_the_token_endpoint_issues_a_bearer_token_with_http_basic(issued_client):
    response = APIClient().post(
        "/o/token/",
        {"grant_type": "client_credentials"},
        HTTP_AUTHORIZATION=basic(issued_client.client.client_id, issued_client.client_secret),
    )

    assert response.status_code == 200, response.content
    token = response.json()
    assert token["token_type"] == "Bearer"
    assert token["expires_in"] == 3600
    assert set(token["scope"].split()) == {"customers:read", "customers:write"}
    assert create_with(f"Bearer {token['access_token']}").status_code == 201


def test_the_token_endpoint_issues_a_token_with_form_fields(issued_client):
    response = APIClient().post(
        "/o/token/",
        {
            "grant_type": "client_credentials",
            "client_id": issued_client.client.client_id,
            "client_secret": issued_client.client_secret,
        },
    )

    assert response.status_code == 200, response.content
    assert create_with(f"Bearer {response.json()['access_token']}").status_code == 201


@pytest.mark.parametrize("how", ["basic", "form"])
def test_a_wrong_client_secret_gets_no_token(issued_client, how):
    client_id = issued_client.client.client_id
    data = {"grant_type": "client_credentials"}
    extra = {}
    if how == "basic":
        extra["HTTP_AUTHORIZATION"] = basic(client_id, "wrong-secret")
    else:
        data.update(client_id=client_id, client_secret="wrong-secret")

    response = APIClient().post("/o/token/", data, **extra)

    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"
    assert not AccessToken.objects.exists()


def test_an_unknown_client_gets_no_token(db):
    response = APIClient().post(
        "/o/token/", {"grant_type": "client_credentials"}, HTTP_AUTHORIZATION=basic("nope", "x")
    )

    assert response.status_code == 401


def test_a_client_credentials_token_has_no_user_and_belongs_to_the_merchants_client(issued_client, access_token):
    token = AccessToken.objects.get()

    assert token.user is None
    assert token.application.merchant == issued_client.client.merchant


# --- the bearer token on the API --------------------------------------------------------------


def test_a_valid_token_creates_the_customer_for_its_merchant(issued_client, access_token):
    response = create_with(f"Bearer {access_token}")

    assert response.status_code == 201
    assert Customer.objects.get().merchant == issued_client.client.merchant


def test_the_bearer_scheme_is_case_insensitive(access_token):
    assert create_with(f"bearer {access_token}").status_code == 201


def test_a_request_without_a_token_is_a_401_with_a_bearer_challenge(db):
    problem = assert_unauthorized(create_with(None), invalid_token=False)

    assert "Authorization: Bearer" in problem["detail"]


@pytest.mark.parametrize(
    "authorization",
    ["", "Bearer", "Token abc", "Basic YWRhOmxvdmVsYWNl", "Bearerabc", "Bearer\tabc"],
)
def test_a_missing_or_malformed_authorization_header_is_a_401(db, authorization):
    assert_unauthorized(create_with(authorization), invalid_token=False)


@pytest.mark.parametrize(
    "token",
    ["", "garbage", "a" * 30, "Bearer", "x y", "%00", "\u00e9t\u00e9", "a" * 5000],
    ids=["empty", "word", "30-chars", "bearer-twice", "two-words", "percent", "non-ascii", "very-long"],
)
def test_a_token_that_was_never_issued_is_a_401_invalid_token(db, token):
    problem = assert_unauthorized(create_with(f"Bearer {token}"), invalid_token=True)

    assert problem["detail"] == "The access token is invalid, expired or revoked."


def test_an_expired_token_is_a_401(access_token):
    AccessToken.objects.update(expires=timezone.now() - datetime.timedelta(seconds=1))

    assert_unauthorized(create_with(f"Bearer {access_token}"), invalid_token=True)


def test_a_token_revoked_at_the_revocation_endpoint_is_a_401(issued_client, access_token):
    assert create_with(f"Bearer {access_token}").status_code == 201
    Customer.objects.all().delete()

    revoked = APIClient().post(
        "/o/revoke_token/",
        {"token": access_token},
        HTTP_AUTHORIZATION=basic(issued_client.client.client_id, issued_client.client_secret),
    )

    assert revoked.status_code == 200
    assert_unauthorized(create_with(f"Bearer {access_token}"), invalid_token=True)


def test_a_token_of_a_deleted_client_is_a_401(issued_client, access_token):
    oauth_client_revoke(merchant=issued_client.client.merchant, client=issued_client.client)

    assert_unauthorized(create_with(f"Bearer {access_token}"), invalid_token=True)


def test_a_token_of_an_inactive_merchant_is_a_401(merchant, access_token):
    merchant.is_active = False
    merchant.save()

    problem = assert_unauthorized(create_with(f"Bearer {access_token}"), invalid_token=True)

    assert "not active" in problem["detail"]


def test_a_token_in_the_query_string_is_ignored_and_the_request_is_a_401(access_token):
    response = APIClient().post(
        f"{URL}?access_token={access_token}", json.dumps({"firstname": "Ada"}), content_type="application/json"
    )

    assert_unauthorized(response, invalid_token=False)


def test_a_token_in_the_query_string_does_not_rescue_a_bad_header(access_token):
    response = APIClient().post(
        f"{URL}?access_token={access_token}",
        json.dumps({"firstname": "Ada"}),
        content_type="application/json",
        HTTP_AUTHORIZATION="Bearer garbage",
    )

    assert_unauthorized(response, invalid_token=True)


def test_a_token_in_a_form_body_is_ignored(access_token):
    response = APIClient().post(URL, {"access_token": access_token, "firstname": "Ada"})

    assert_unauthorized(response, invalid_token=False)


def test_a_token_in_the_json_body_is_ignored(access_token):
    assert_unauthorized(create_with(None, {"access_token": access_token, "firstname": "Ada"}), invalid_token=False)


@pytest.mark.parametrize(
    ("content_type", "body"),
    [("application/json", "{not json"), ("text/plain", "hello"), ("multipart/form-data; boundary=x", "--x--")],
)
def test_a_bad_token_is_a_401_before_the_body_is_looked_at(db, content_type, body):
    response = APIClient().post(URL, body, content_type=content_type, HTTP_AUTHORIZATION="Bearer garbage")

    assert_unauthorized(response, invalid_token=True)


@pytest.mark.parametrize("method", ["get", "put", "patch", "delete"])
def test_other_methods_without_a_token_are_a_401_not_a_405(db, method):
    response = getattr(APIClient(), method)(URL)

    assert_unauthorized(response, invalid_token=False)


def test_each_client_of_a_merchant_gets_its_own_working_token(merchant):
    first = oauth_client_create(merchant=merchant, name="first")
    second = oauth_client_create(merchant=merchant, name="second")

    for issued in (first, second):
        token = fetch_token(issued.client.client_id, issued.client_secret)["access_token"]
        assert create_with(f"Bearer {token}").status_code == 201

    assert Customer.objects.filter(merchant=merchant).count() == 2


def test_one_merchants_token_never_writes_to_another_merchant(merchant, other_merchant, api_client_for):
    client = api_client_for(other_merchant)

    response = client.post(URL, json.dumps({"firstname": "Ada"}), content_type="application/json")

    assert response.json()["data"]["merchant_id"] == str(other_merchant.pk)
    assert not Customer.objects.filter(merchant=merchant).exists()
