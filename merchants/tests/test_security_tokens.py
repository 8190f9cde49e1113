"""The token endpoint under attack: secret guessing is slowed down without locking the owner out, and checking
a secret is cheap (OWASP API2, API4). More in tests/test_token_throttle.py."""

import base64

import pytest
from django.contrib.auth.hashers import identify_hasher
from rest_framework.test import APIClient

from merchants.models import OAuthClient
from merchants.services import oauth_client_create

pytestmark = pytest.mark.django_db

TOKEN_URL = "/o/token/"


@pytest.fixture(autouse=True)
def failure_limit(settings):
    settings.TOKEN_FAILURE_LIMIT = 5
    settings.TOKEN_FAILURE_WINDOW = 300
    return 5


def basic(client_id: str, secret: str) -> str:
    return "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()


def ask_with_basic(client_id: str, secret: str):
    return APIClient().post(
        TOKEN_URL, {"grant_type": "client_credentials"}, HTTP_AUTHORIZATION=basic(client_id, secret)
    )


def ask_with_form(client_id: str, secret: str):
    return APIClient().post(
        TOKEN_URL, {"grant_type": "client_credentials", "client_id": client_id, "client_secret": secret}
    )


@pytest.mark.parametrize("ask", [ask_with_basic, ask_with_form], ids=["basic", "form"])
def test_after_repeated_wrong_secrets_a_wrong_secret_gets_429_and_the_right_one_still_gets_a_token(
    issued_client, failure_limit, ask
):
    client_id = issued_client.client.client_id
    for _ in range(failure_limit):
        assert ask(client_id, "wrong").status_code == 401

    response = ask(client_id, "wrong")

    assert response.status_code == 429
    assert response["Content-Type"] == "application/json"
    assert response.json()["error"] == "slow_down"
    assert "Retry in" in response.json()["error_description"]
    assert 1 <= int(response["Retry-After"]) <= 300
    assert response["Cache-Control"] == "no-store"
    # Knowing a client id is not enough to lock its owner out (security report, item 4).
    assert ask(client_id, issued_client.client_secret).status_code == 200


def test_failures_are_counted_per_client_whichever_way_it_authenticates(issued_client, failure_limit):
    client_id = issued_client.client.client_id
    for attempt in range(failure_limit):
        ask = ask_with_basic if attempt % 2 else ask_with_form
        assert ask(client_id, "wrong").status_code == 401

    assert ask_with_basic(client_id, "wrong").status_code == 429
    assert ask_with_basic(client_id, issued_client.client_secret).status_code == 200


def test_another_client_is_not_throttled_by_someone_guessing_a_different_one(merchant, issued_client, failure_limit):
    for _ in range(failure_limit + 3):
        ask_with_basic(issued_client.client.client_id, "wrong")
    other = oauth_client_create(merchant=merchant, name="Other")

    assert ask_with_basic(other.client.client_id, other.client_secret).status_code == 200


def test_a_success_before_the_limit_clears_the_count(issued_client, failure_limit):
    client_id = issued_client.client.client_id
    for _ in range(failure_limit - 1):
        assert ask_with_basic(client_id, "wrong").status_code == 401
    assert ask_with_basic(client_id, issued_client.client_secret).status_code == 200
    for _ in range(failure_limit - 1):
        assert ask_with_basic(client_id, "wrong").status_code == 401

    assert ask_with_basic(client_id, issued_client.client_secret).status_code == 200


def test_guessing_unknown_client_ids_is_throttled_too(db, failure_limit):
    for _ in range(failure_limit):
        assert ask_with_basic("no-such-client", "guess").status_code == 401

    assert ask_with_basic("no-such-client", "guess").status_code == 429


def test_a_limit_of_zero_turns_the_throttle_off(settings, issued_client):
    settings.TOKEN_FAILURE_LIMIT = 0
    for _ in range(12):
        ask_with_basic(issued_client.client.client_id, "wrong")

    assert ask_with_basic(issued_client.client.client_id, issued_client.client_secret).status_code == 200


def test_a_token_request_with_thousands_of_form_fields_is_a_400_problem_not_a_500(db):
    body = "&".join(f"f{i}=1" for i in range(5_000))

    response = APIClient().generic("POST", TOKEN_URL, body, content_type="application/x-www-form-urlencoded")

    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"


def test_client_secrets_are_stored_with_the_fast_salted_hasher_not_pbkdf2(issued_client):
    stored = OAuthClient.objects.get(pk=issued_client.client.pk).client_secret

    assert identify_hasher(stored).algorithm == "client_secret_sha256"
    assert issued_client.client_secret not in stored
    # 128 random characters from a 62-symbol alphabet: ~760 bits, beyond any guessing a slow hash would slow down.
    assert len(issued_client.client_secret) == 128


@pytest.mark.parametrize("ask", [ask_with_basic, ask_with_form], ids=["basic", "form"])
def test_a_nul_character_in_the_client_id_is_a_400_oauth_error_on_every_database(db, ask):
    response = ask("client\x00id", "secret")

    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"
