"""API clients chosen read-only or read-write, their "last used" time, and rolling a secret with a grace period.

Through the doors a client uses: POST /o/token/ for the secret, the API with the token it got.
"""

import base64
import datetime

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from merchants.models import OAuthClient
from merchants.services import oauth_client_create, oauth_client_roll_secret
from tests.api_helpers import URL, assert_problem, create, detail_url, send
from tests.credentials import fetch_token

pytestmark = pytest.mark.django_db


def token_call(client_id: str, secret: str, **data):
    basic = base64.b64encode(f"{client_id}:{secret}".encode()).decode()
    return APIClient().post(
        "/o/token/", {"grant_type": "client_credentials", **data}, HTTP_AUTHORIZATION=f"Basic {basic}"
    )


def bearer(token: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return client


@pytest.fixture
def read_only(merchant):
    return oauth_client_create(merchant=merchant, name="Reporting", access=OAuthClient.Access.READ_ONLY)


def test_a_read_only_clients_token_carries_the_read_scope_only(read_only):
    token = fetch_token(read_only.client.client_id, read_only.client_secret)

    assert token["scope"] == "customers:read"


def test_a_read_only_client_cannot_ask_for_the_write_scope(read_only):
    response = token_call(read_only.client.client_id, read_only.client_secret, scope="customers:write")

    assert response.status_code == 400
    assert response.json()["error"] == "invalid_scope"


def test_a_read_only_clients_token_reads_customers_and_webhook_endpoints(read_only, api_client):
    customer = create(api_client)
    client = bearer(fetch_token(read_only.client.client_id, read_only.client_secret)["access_token"])

    assert client.get(URL).status_code == 200
    assert client.get(detail_url(customer["customer_id"])).status_code == 200
    assert client.get("/api/v1/webhook-endpoints").status_code == 200


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("post", URL, {"firstname": "Ada"}),
        ("post", f"{URL}/bulk", {"customers": [{"firstname": "Ada"}]}),
        ("patch", "{customer}", {"firstname": "Bob"}),
        ("put", "{customer}", {"firstname": "Bob"}),
        ("delete", "{customer}", None),
        ("post", "/api/v1/webhook-endpoints", {"url": "https://example.com/hook"}),
    ],
)
def test_every_write_of_a_read_only_clients_token_is_a_403_problem_and_changes_nothing(
    method, path, body, read_only, api_client, merchant
):
    customer = create(api_client)
    client = bearer(fetch_token(read_only.client.client_id, read_only.client_secret)["access_token"])

    response = send(client, method, path.format(customer=detail_url(customer["customer_id"])), body)

    problem = assert_problem(response, 403, "insufficient-scope")
    assert problem["required_scope"] == "customers:write"
    assert merchant.customers.count() == 1
    assert merchant.customers.get().firstname == "Ada"


def test_a_read_write_client_is_the_default_and_gets_both_scopes(issued_client):
    token = fetch_token(issued_client.client.client_id, issued_client.client_secret)

    assert issued_client.client.allowed_scopes == "customers:read customers:write"
    assert set(token["scope"].split()) == {"customers:read", "customers:write"}


def test_getting_a_token_records_when_the_client_was_last_used(issued_client):
    assert issued_client.client.last_used_at is None
    before = timezone.now()

    fetch_token(issued_client.client.client_id, issued_client.client_secret)

    issued_client.client.refresh_from_db()
    assert issued_client.client.last_used_at >= before


def test_an_api_request_with_a_token_writes_nothing_to_the_client(issued_client, django_assert_num_queries):
    token = fetch_token(issued_client.client.client_id, issued_client.client_secret)["access_token"]
    client = bearer(token)
    client.get(URL)  # warm-up

    with django_assert_num_queries(2):  # the token with its client and merchant, the customers page
        assert client.get(URL).status_code == 200


# --- rolling the secret ----------------------------------------------------------------------------------------


def test_after_a_roll_the_new_secret_gets_tokens(issued_client, merchant):
    rolled = oauth_client_roll_secret(merchant=merchant, client=issued_client.client, grace=datetime.timedelta(hours=1))

    assert rolled.client_secret != issued_client.client_secret
    assert token_call(rolled.client.client_id, rolled.client_secret).status_code == 200


def test_the_old_secret_keeps_working_during_the_grace_period_and_fails_after_it(issued_client, merchant):
    oauth_client_roll_secret(merchant=merchant, client=issued_client.client, grace=datetime.timedelta(hours=24))

    assert token_call(issued_client.client.client_id, issued_client.client_secret).status_code == 200

    # Time travel: the grace period ends (the stored expiry passes).
    OAuthClient.objects.filter(pk=issued_client.client.pk).update(
        previous_secret_expires_at=timezone.now() - datetime.timedelta(seconds=1)
    )
    response = token_call(issued_client.client.client_id, issued_client.client_secret)

    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"


def test_the_old_secret_works_in_the_request_body_too_during_the_grace_period(issued_client, merchant):
    oauth_client_roll_secret(merchant=merchant, client=issued_client.client, grace=datetime.timedelta(hours=1))

    response = APIClient().post(
        "/o/token/",
        {
            "grant_type": "client_credentials",
            "client_id": issued_client.client.client_id,
            "client_secret": issued_client.client_secret,
        },
    )

    assert response.status_code == 200


def test_rolling_with_no_grace_stops_the_old_secret_at_once(issued_client, merchant):
    rolled = oauth_client_roll_secret(merchant=merchant, client=issued_client.client, grace=datetime.timedelta(0))

    assert token_call(issued_client.client.client_id, issued_client.client_secret).status_code == 401
    assert token_call(rolled.client.client_id, rolled.client_secret).status_code == 200


def test_rolling_twice_keeps_only_the_secret_just_replaced(issued_client, merchant):
    first = oauth_client_roll_secret(merchant=merchant, client=issued_client.client, grace=datetime.timedelta(hours=1))
    second = oauth_client_roll_secret(merchant=merchant, client=first.client, grace=datetime.timedelta(hours=1))

    assert token_call(issued_client.client.client_id, issued_client.client_secret).status_code == 401
    assert token_call(issued_client.client.client_id, first.client_secret).status_code == 200
    assert token_call(issued_client.client.client_id, second.client_secret).status_code == 200


def test_a_token_issued_before_the_roll_keeps_its_own_expiry(issued_client, merchant):
    token = fetch_token(issued_client.client.client_id, issued_client.client_secret)["access_token"]

    oauth_client_roll_secret(merchant=merchant, client=issued_client.client, grace=datetime.timedelta(0))

    assert bearer(token).get(URL).status_code == 200


def test_the_old_secret_is_kept_hashed(issued_client, merchant):
    oauth_client_roll_secret(merchant=merchant, client=issued_client.client, grace=datetime.timedelta(hours=1))

    issued_client.client.refresh_from_db()
    assert issued_client.client.previous_client_secret.startswith("client_secret_sha256$")
    assert issued_client.client_secret not in issued_client.client.previous_client_secret


def test_a_grace_period_longer_than_seven_days_is_refused(issued_client, merchant):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError) as refused:
        oauth_client_roll_secret(merchant=merchant, client=issued_client.client, grace=datetime.timedelta(days=8))

    assert "grace" in refused.value.message_dict


def test_another_merchants_client_cannot_be_rolled(issued_client, other_merchant):
    with pytest.raises(OAuthClient.DoesNotExist):
        oauth_client_roll_secret(merchant=other_merchant, client=issued_client.client, grace=datetime.timedelta(0))


def test_wrong_secrets_after_the_grace_period_are_throttled_but_the_new_secret_is_not(
    issued_client, merchant, settings
):
    settings.TOKEN_FAILURE_LIMIT = 2
    rolled = oauth_client_roll_secret(merchant=merchant, client=issued_client.client, grace=datetime.timedelta(0))

    answers = [token_call(rolled.client.client_id, issued_client.client_secret).status_code for _ in range(4)]

    assert answers == [401, 401, 429, 429]
    assert token_call(rolled.client.client_id, rolled.client_secret).status_code == 200
