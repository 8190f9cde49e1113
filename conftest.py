import os

import pytest
from django.db import connection
from django_scopes import scopes_disabled
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings
from rest_framework.test import APIClient

from merchants.services import oauth_client_create
from tests.credentials import USER_PASSWORD, issue_token
from tests.factories import MerchantFactory
from tests.http_receiver import Receiver

# Hypothesis (property tests and schemathesis): a modest "ci" profile by default, with the
# same examples on every run so CI is repeatable (a failure found there fails every time);
# HYPOTHESIS_PROFILE=thorough runs ~20x more examples, freshly random (see docs/security.md).
hypothesis_settings.register_profile(
    "ci",
    max_examples=40,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
hypothesis_settings.register_profile(
    "thorough", max_examples=800, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
hypothesis_settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


def pytest_collection_modifyitems(config, items):
    """`@pytest.mark.postgres_only` skips its test on any other database, saying how to run it."""
    if connection.vendor == "postgresql":
        return
    skip = pytest.mark.skip(reason="needs PostgreSQL: run with DATABASE_URL=postgres://postgres@127.0.0.1:5432/test")
    for item in items:
        if item.get_closest_marker("postgres_only"):
            item.add_marker(skip)


@pytest.fixture(autouse=True)
def _test_code_outside_tenant_scoping():
    """Test code reads and writes any merchant's rows directly; the requests it makes do not.

    Every request still starts with no merchant in scope (core.middleware.TenantScopeMiddleware)
    and its views must enter their merchant's, so a view that forgets fails its tests.
    """
    with scopes_disabled():
        yield


@pytest.fixture(autouse=True)
def _empty_cache():
    """Every test starts with no rate-limit or token-failure counts (the test cache is in memory)."""
    from django.core.cache import caches

    caches["default"].clear()


class PinnedClock:
    """The rate limiter's clock, standing still until a test moves it."""

    def __init__(self, now: float):
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def rate_limit_clock(monkeypatch):
    """The limiter's clock pinned half-way through an hour: no test straddles two windows by chance."""
    clock = PinnedClock(1_800_000_000 + 1800.0)  # 1_800_000_000 is a whole number of hours
    monkeypatch.setattr("api.ratelimit._clock", clock)
    return clock


@pytest.fixture
def merchant(db):
    return MerchantFactory(name="Acme Ltd")


@pytest.fixture
def other_merchant(db):
    return MerchantFactory(name="Globex Corp")


@pytest.fixture
def issued_client(merchant):
    """An OAuth2 client of `merchant` with its plain secret (IssuedClient)."""
    return oauth_client_create(merchant=merchant, name="Test client")


@pytest.fixture
def token_for(db):
    """token_for(merchant, scope=None) -> access token string of a new client of `merchant`."""

    def make(merchant, scope: str | None = None) -> str:
        return issue_token(oauth_client_create(merchant=merchant, name="Test client").client, scope)

    return make


@pytest.fixture
def api_client_for(token_for):
    """api_client_for(merchant, scope=None) -> APIClient sending a real bearer token of `merchant`."""

    def make(merchant, scope: str | None = None) -> APIClient:
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {token_for(merchant, scope)}")
        return client

    return make


@pytest.fixture
def api_client(api_client_for, merchant) -> APIClient:
    """Logged in to the API as `merchant` with read and write scopes."""
    return api_client_for(merchant)


@pytest.fixture
def other_api_client(api_client_for, other_merchant) -> APIClient:
    return api_client_for(other_merchant)


@pytest.fixture
def anonymous_api_client() -> APIClient:
    return APIClient()


def is_postgres() -> bool:
    return connection.vendor == "postgresql"


# Portal and admin logins (Django test client, logged in with a real session).
@pytest.fixture
def portal_client_for(db):
    """portal_client_for(merchant, role="admin", user=None) -> Client of a member of `merchant`.

    The client's `.user` and `.membership` are the logged-in user and their membership.
    """
    from django.test import Client

    from tests.factories import MembershipFactory

    def make(merchant, role: str = "admin", user=None):
        membership = MembershipFactory(merchant=merchant, role=role, **({"user": user} if user else {}))
        client = Client()
        client.force_login(membership.user)
        client.user, client.membership = membership.user, membership
        return client

    return make


@pytest.fixture
def portal_admin_client(portal_client_for, merchant):
    """Logged in to the portal as an admin of `merchant`."""
    return portal_client_for(merchant, "admin")


@pytest.fixture
def portal_staff_client(portal_client_for, merchant):
    """Logged in to the portal as a staff member (customers only) of `merchant`."""
    return portal_client_for(merchant, "staff")


@pytest.fixture
def portal_outsider_client(db):
    """Logged in as a user who is a member of no merchant."""
    from django.test import Client

    from tests.factories import UserFactory

    client = Client()
    client.user = UserFactory()
    client.force_login(client.user)
    return client


@pytest.fixture
def admin_site_client(db):
    """Logged in to Django admin as a superuser (a `createsuperuser` operator)."""
    from django.contrib.auth import get_user_model
    from django.test import Client

    client = Client()
    client.user = get_user_model().objects.create_superuser("operator", "operator@example.com", USER_PASSWORD)
    client.force_login(client.user)
    return client


@pytest.fixture(scope="session")
def redis_url():
    """The URL of a redis-server of this test process's own (the production cache)."""
    from tests.redis_server import RedisServer

    server = RedisServer().start()
    yield server.url
    server.stop()


@pytest.fixture
def receiver():
    """A started HTTP receiver on 127.0.0.1 (tests/http_receiver.py) that records what it gets."""
    server = Receiver().start()
    yield server
    server.stop()
