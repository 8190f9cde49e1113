"""OAuth2 scopes (customers:read, customers:write) and the per-client rate limit with RateLimit-* headers."""

import uuid

import environ
import pytest
from rest_framework.test import APIClient

from api.ratelimit import rate_limit_hit
from merchants.services import oauth_client_create
from tests.api_helpers import URL, assert_problem, create, detail_url, send
from tests.concurrency import in_threads
from tests.credentials import fetch_token

READ = "customers:read"
WRITE = "customers:write"


def calls(customer_id):
    """(name, method, path, body, scope needed) for every customer endpoint."""
    detail = detail_url(customer_id)
    return [
        ("list", "get", URL, None, READ),
        ("retrieve", "get", detail, None, READ),
        ("create", "post", URL, {"firstname": "Ada"}, WRITE),
        ("bulk", "post", URL + "/bulk", {"customers": [{"firstname": "Ada"}]}, WRITE),
        ("update", "patch", detail, {"lastname": "Lovelace"}, WRITE),
        ("replace", "put", detail, {"firstname": "Ada"}, WRITE),
        ("delete", "delete", detail, None, WRITE),
    ]


# --- scopes -----------------------------------------------------------------------------------------


def test_a_token_requested_without_scope_gets_both(merchant):
    issued = oauth_client_create(merchant=merchant)

    token = fetch_token(issued.client.client_id, issued.client_secret)

    assert set(token["scope"].split()) == {READ, WRITE}


def test_a_token_may_ask_for_fewer_scopes(merchant):
    issued = oauth_client_create(merchant=merchant)

    assert fetch_token(issued.client.client_id, issued.client_secret, READ)["scope"] == READ


@pytest.mark.parametrize("granted", [READ, WRITE])
def test_each_endpoint_needs_its_scope_and_names_it_in_the_403(api_client, api_client_for, merchant, granted):
    limited = api_client_for(merchant, granted)
    for name, method, path, body, needed in calls(create(api_client)["customer_id"]):
        response = send(limited, method, path, body)
        if needed == granted:
            assert response.status_code in (200, 201, 204, 207), (name, response.content)
            continue
        problem = assert_problem(response, 403, "insufficient-scope")
        assert problem["required_scope"] == needed, name
        assert f"'{needed}'" in problem["detail"]
        assert f'scope="{needed}"' in response["WWW-Authenticate"]
        assert 'error="insufficient_scope"' in response["WWW-Authenticate"]


def test_write_does_not_imply_read(api_client_for, merchant):
    writer = api_client_for(merchant, WRITE)
    created = create(writer)

    assert_problem(writer.get(detail_url(created["customer_id"])), 403, "insufficient-scope")
    assert_problem(writer.get(URL), 403, "insufficient-scope")


def test_a_refused_write_changes_nothing(api_client, api_client_for, merchant):
    customer_id = create(api_client, {"firstname": "Ada"})["customer_id"]
    reader = api_client_for(merchant, READ)

    send(reader, "patch", detail_url(customer_id), {"firstname": "Eve"})
    send(reader, "delete", detail_url(customer_id))

    assert api_client.get(detail_url(customer_id)).json()["data"]["firstname"] == "Ada"


def test_the_scope_check_comes_before_the_lookup_so_it_reveals_nothing(api_client_for, merchant):
    reader = api_client_for(merchant, READ)

    response = send(reader, "delete", detail_url(uuid.uuid4()))

    assert_problem(response, 403, "insufficient-scope")


# --- rate limit -------------------------------------------------------------------------------------


@pytest.fixture
def long_window(settings, rate_limit_clock):
    """One-hour windows on a clock that stands still (returns `settings`)."""
    settings.API_RATE_LIMIT_WINDOW = 3600
    return settings


def test_every_api_response_carries_rate_limit_headers(api_client, anonymous_api_client, long_window):
    long_window.API_RATE_LIMIT = 50
    customer_id = create(api_client)["customer_id"]
    responses = [
        api_client.get(URL),
        api_client.get(detail_url(customer_id)),
        api_client.get(detail_url(uuid.uuid4())),  # 404
        send(api_client, "post", URL, {"email": "bad"}),  # 400
        send(api_client, "patch", detail_url(customer_id), {"firstname": "Eve"}),
        anonymous_api_client.get(URL),  # 401
    ]
    for response in responses:
        assert response["RateLimit-Limit"] == "50", response
        assert 0 <= int(response["RateLimit-Remaining"]) < 50
        assert 1 <= int(response["RateLimit-Reset"]) <= 3600
        assert response["RateLimit-Policy"] == "50;w=3600"


def test_remaining_counts_down_per_request(api_client, long_window):
    long_window.API_RATE_LIMIT = 10

    remaining = [int(api_client.get(URL)["RateLimit-Remaining"]) for _ in range(4)]

    assert remaining == [9, 8, 7, 6]


def test_over_the_limit_is_a_429_with_retry_after(api_client, merchant, long_window):
    long_window.API_RATE_LIMIT = 3
    for _ in range(3):
        assert api_client.get(URL).status_code == 200

    response = send(api_client, "post", URL, {"firstname": "Ada"})

    problem = assert_problem(response, 429, "rate-limited")
    assert 1 <= int(response["Retry-After"]) <= 3600
    assert response["Retry-After"] == response["RateLimit-Reset"]
    assert response["RateLimit-Remaining"] == "0"
    assert (
        problem["detail"]
        == f"Rate limit of 3 requests per 3600 seconds reached. Retry in {response['Retry-After']} seconds."
    )
    assert not merchant.customers.exists()


def test_the_limit_is_per_oauth2_client(api_client_for, merchant, other_merchant, long_window):
    long_window.API_RATE_LIMIT = 2
    issued = oauth_client_create(merchant=merchant)
    first_token = fetch_token(issued.client.client_id, issued.client_secret)["access_token"]
    second_token = fetch_token(issued.client.client_id, issued.client_secret)["access_token"]
    first, same_client = APIClient(), APIClient()
    first.credentials(HTTP_AUTHORIZATION=f"Bearer {first_token}")
    same_client.credentials(HTTP_AUTHORIZATION=f"Bearer {second_token}")

    first.get(URL)
    first.get(URL)

    assert_problem(same_client.get(URL), 429)  # a new token of the same client shares its count
    assert api_client_for(merchant).get(URL).status_code == 200  # another client of the same merchant does not
    assert api_client_for(other_merchant).get(URL).status_code == 200


def test_refused_requests_count_too(api_client_for, merchant, long_window):
    long_window.API_RATE_LIMIT = 2
    reader = api_client_for(merchant, READ)

    send(reader, "post", URL, {"firstname": "Ada"})  # 403
    reader.get(detail_url(uuid.uuid4()))  # 404

    assert_problem(reader.get(URL), 429)


def test_requests_without_a_valid_token_are_limited_by_address(db, anonymous_api_client, long_window):
    long_window.API_RATE_LIMIT = 2
    bad_token = APIClient()
    bad_token.credentials(HTTP_AUTHORIZATION="Bearer not-a-token")

    assert_problem(anonymous_api_client.get(URL), 401)
    assert_problem(bad_token.get(URL), 401)

    response = anonymous_api_client.get(URL)
    assert_problem(response, 429)
    assert "Retry-After" in response


def test_the_limit_starts_again_in_the_next_window(api_client, long_window, rate_limit_clock):
    long_window.API_RATE_LIMIT = 1
    assert api_client.get(URL).status_code == 200
    assert_problem(api_client.get(URL), 429)

    rate_limit_clock.advance(1799)
    assert_problem(api_client.get(URL), 429)  # still the same window, one second before its end
    rate_limit_clock.advance(1)

    assert api_client.get(URL).status_code == 200


def test_a_limit_of_zero_turns_rate_limiting_off(api_client, settings):
    settings.API_RATE_LIMIT = 0

    response = api_client.get(URL)

    assert response.status_code == 200
    assert "RateLimit-Limit" not in response


def _hit_in_threads(identity: str, threads: int, hits: int) -> None:
    def run(_index: int) -> None:
        for _ in range(hits):
            assert rate_limit_hit(identity) is not None

    in_threads(threads, run)


@pytest.fixture
def redis_cache(settings, long_window, redis_url):
    """The production cache: a real redis-server as the default cache (REDIS_URL=redis://...)."""
    from django.core.cache import caches

    settings.CACHES = {"default": environ.Env.cache_url_config(redis_url)}
    caches["default"].clear()
    return settings


def test_with_redis_configured_the_limit_is_counted_in_redis(redis_cache, api_client):
    from django.core.cache import caches

    assert caches["default"].__class__.__name__ == "RedisCache"
    redis_cache.API_RATE_LIMIT = 5
    identity = f"client:{uuid.uuid4()}"

    _hit_in_threads(identity, threads=4, hits=1)
    remaining = [int(api_client.get(URL)["RateLimit-Remaining"]) for _ in range(3)]

    assert rate_limit_hit(identity).remaining == 0
    assert remaining == [4, 3, 2]
    assert api_client.get(URL).status_code == 200
    assert api_client.get(URL).status_code == 200
    assert_problem(api_client.get(URL), 429)


def test_simultaneous_requests_of_many_threads_are_all_counted_in_redis(redis_cache):
    redis_cache.API_RATE_LIMIT = 1000
    identity = f"client:{uuid.uuid4()}"

    _hit_in_threads(identity, threads=6, hits=20)

    assert rate_limit_hit(identity).remaining == 1000 - 121


def test_an_unreachable_cache_lets_requests_through_without_headers(api_client, settings):
    settings.CACHES = {"default": environ.Env.cache_url_config("redis://127.0.0.1:8298/0")}  # nothing listens here

    response = api_client.get(URL)

    assert response.status_code == 200
    assert "RateLimit-Limit" not in response
