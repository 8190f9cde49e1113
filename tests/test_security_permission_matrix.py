"""The permission matrix, generated from the URL configuration (OWASP API1, API3, API5).

Every URL pattern of the project is walked; each must be classified below, so a
new endpoint or page fails `test_every_url_pattern_is_classified` until someone
says who may use it. Then, for every API endpoint and portal page:
- merchant A (token or session) against merchant B's objects gets 404 and
  changes nothing; A's own object answers (so the 404 is not just a broken page);
- B's rows never appear in A's lists, filters, searches, exports or events;
- a customers:read token cannot write; a merchant token cannot reach admin;
- a staff-role member cannot use admin-role pages.
Every answer checked also carries Cache-Control: no-store.
"""

import dataclasses
import json

import pytest
from django.contrib import admin
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from rest_framework.test import APIClient

from customers.models import CustomerExport, CustomerImport, CustomField
from customers.services import customer_create
from events.models import CustomerEvent, EventDelivery, WebhookEndpoint
from events.services import webhook_endpoint_create
from merchants.models import MerchantMembership, OAuthClient
from merchants.services import oauth_client_create
from tests.factories import MembershipFactory

pytestmark = pytest.mark.django_db


@dataclasses.dataclass(frozen=True)
class Rule:
    door: str  # "public", "api", "portal", "operator"
    admin_only: bool = False  # portal: the merchant's admins only


PUBLIC = Rule("public")
API = Rule("api")
PORTAL = Rule("portal")
PORTAL_ADMIN = Rule("portal", admin_only=True)
# Operators' tools outside admin, each behind its own setting: events/tests/test_backlog.py tests the door.
OPERATOR = Rule("operator")

# Every named URL outside Django admin. A new one must be added here, deliberately.
CLASSIFIED: dict[str, Rule] = {
    "index": PUBLIC,  # links to the portal, the API docs and admin; no data
    "healthz": PUBLIC,
    "readyz": PUBLIC,
    "metrics": OPERATOR,  # a bearer METRICS_TOKEN; a 404 while it is unset
    "oauth2_token": PUBLIC,  # client credentials are the authentication
    "oauth2_revoke_token": PUBLIC,
    "api-schema": PUBLIC,
    "api-docs": PUBLIC,
    "api-redoc": PUBLIC,
    "api:customer-list": API,
    "api:customer-bulk": API,
    "api:customer-detail": API,
    "api:webhook-endpoint-list": API,
    "api:webhook-endpoint-detail": API,
    "portal:login": PUBLIC,
    "portal:logout": PUBLIC,
    "portal:invitation_accept": PUBLIC,  # a random, single-use link for one pending membership
    # Account recovery: the same answer for every address; the link is Django's signed, single-use token.
    "portal:password_reset": PUBLIC,
    "portal:password_reset_done": PUBLIC,
    "portal:password_reset_confirm": PUBLIC,
    "portal:password_reset_complete": PUBLIC,
    "portal:home": PORTAL,
    "portal:password_change": PORTAL,
    "portal:password_change_done": PORTAL,
    "portal:switch_merchant": PORTAL,
    "portal:customer_list": PORTAL,
    "portal:customer_create": PORTAL,
    "portal:customer_export": PORTAL,
    "portal:customers_selected": PORTAL,  # ids in the body: test_bulk_actions_on_merchant_bs_ids_change_nothing
    "portal:customers_selected_delete": PORTAL,
    "portal:customer_detail": PORTAL,
    "portal:customer_edit": PORTAL,
    "portal:customer_delete": PORTAL,
    "portal:customer_events": PORTAL,
    "portal:import_upload": PORTAL,
    "portal:import_status": PORTAL,
    "portal:import_errors": PORTAL,
    "portal:import_status_json": PORTAL,
    "portal:import_cancel": PORTAL,  # staff may cancel their merchant's imports
    "portal:export_status": PORTAL,
    "portal:export_status_json": PORTAL,
    "portal:export_download": PORTAL,
    "portal:client_list": PORTAL_ADMIN,
    "portal:client_revoke": PORTAL_ADMIN,
    "portal:client_roll": PORTAL_ADMIN,
    "portal:client_secret": PORTAL_ADMIN,  # shows the secret kept in the session by the create or roll just made
    "portal:staff_list": PORTAL_ADMIN,
    "portal:staff_role": PORTAL_ADMIN,
    "portal:staff_remove": PORTAL_ADMIN,
    "portal:staff_reinvite": PORTAL_ADMIN,
    "portal:merchant_settings": PORTAL_ADMIN,
    "portal:webhook_list": PORTAL_ADMIN,
    "portal:webhook_secret": PORTAL_ADMIN,  # the secret of the endpoint just added, named in the session
    "portal:webhook_edit": PORTAL_ADMIN,
    "portal:webhook_delete": PORTAL_ADMIN,
    "portal:webhook_deliveries": PORTAL_ADMIN,
    "portal:webhook_test": PORTAL_ADMIN,  # queues a ping to the endpoint: POST only
    "portal:delivery_retry": PORTAL_ADMIN,
}


@dataclasses.dataclass(frozen=True)
class Route:
    name: str
    pattern: URLPattern
    kwargs: tuple[str, ...]


def walk(patterns=None, namespace: str = "") -> list[Route]:
    routes = []
    for entry in get_resolver().url_patterns if patterns is None else patterns:
        if isinstance(entry, URLResolver):
            inner = f"{namespace}:{entry.namespace}".strip(":") if entry.namespace else namespace
            routes += walk(entry.url_patterns, inner)
        else:
            name = f"{namespace}:{entry.name}".strip(":") if entry.name else f"{namespace}:<unnamed {entry.pattern}>"
            routes.append(Route(name, entry, tuple(entry.pattern.regex.groupindex)))
    return routes


ROUTES = [route for route in walk() if not route.name.startswith("admin:")]


def routes(door: str) -> list[Route]:
    return [route for route in ROUTES if CLASSIFIED.get(route.name, PUBLIC).door == door]


def test_every_url_pattern_is_classified():
    names = {route.name for route in ROUTES}

    assert names - set(CLASSIFIED) == set(), "classify the new URL(s) in CLASSIFIED, then the matrix covers them"
    assert set(CLASSIFIED) - names == set(), "remove URL(s) that no longer exist from CLASSIFIED"
    assert all(route.name.startswith("admin:") for route in walk() if route not in ROUTES)


# --- two merchants, each with one of everything ----------------------------------------------------------------


@dataclasses.dataclass
class World:
    merchant: object
    customer: object
    endpoint: WebhookEndpoint
    client: OAuthClient
    membership: MerchantMembership
    customer_import: CustomerImport
    customer_export: CustomerExport
    delivery: EventDelivery
    marker: str  # appears in this merchant's customer data only

    def kwargs(self) -> dict[str, str]:
        """URL keyword arguments naming this merchant's objects, by the names the URL patterns use."""
        return {
            "customer_id": str(self.customer.pk),
            "endpoint_id": str(self.endpoint.pk),
            "client_pk": str(self.client.pk),
            "membership_pk": str(self.membership.pk),
            "import_id": str(self.customer_import.pk),
            "export_id": str(self.customer_export.pk),
            "delivery_id": str(self.delivery.pk),
        }


def finished_export(merchant, marker: str) -> CustomerExport:
    """A finished export whose file in storage holds this merchant's marker."""
    export = CustomerExport(merchant=merchant, status=CustomerExport.Status.DONE)
    export.file.name = default_storage.save(f"exports/{merchant.pk}/{export.pk}.csv", ContentFile(f"{marker}\r\n"))
    export.save()
    return export


def build_world(merchant, marker: str) -> World:
    endpoint = webhook_endpoint_create(merchant=merchant, data={"url": f"https://{marker.lower()}.example.com/hook"})
    customer = customer_create(
        merchant=merchant,
        data={
            "firstname": marker,
            "email": f"{marker.lower()}@example.org",
            "company": f"{marker} Ltd",
            "address_country": "GBR",
            "options": {"custom_fields": [{"name": "tier", "value": marker}]},
        },
    )
    return World(
        merchant=merchant,
        customer=customer,
        endpoint=endpoint,
        client=oauth_client_create(merchant=merchant, name=f"{marker} client").client,
        membership=MembershipFactory(merchant=merchant, role="staff", user__username=f"{marker.lower()}.staff@x.org"),
        customer_import=CustomerImport.objects.create(merchant=merchant, filename=f"{marker}.csv"),
        customer_export=finished_export(merchant, marker),
        delivery=EventDelivery.objects.filter(event__merchant=merchant).first(),
        marker=marker,
    )


@pytest.fixture
def world_a(merchant):
    return build_world(merchant, "Alphonse")


@pytest.fixture
def world_b(other_merchant):
    return build_world(other_merchant, "Bertrand")


def snapshot(world: World) -> dict:
    """Everything of one merchant that a request could change."""
    merchant = world.merchant
    return {
        "customers": list(merchant.customers.order_by("pk").values()),
        "custom_fields": list(CustomField.objects.filter(customer__merchant=merchant).order_by("pk").values()),
        "endpoints": list(WebhookEndpoint.objects.filter(merchant=merchant).order_by("pk").values()),
        "clients": list(OAuthClient.objects.filter(merchant=merchant).order_by("pk").values()),
        "members": list(MerchantMembership.objects.filter(merchant=merchant).order_by("pk").values()),
        "imports": list(CustomerImport.objects.filter(merchant=merchant).order_by("pk").values()),
        "exports": list(CustomerExport.objects.filter(merchant=merchant).order_by("pk").values()),
        "deliveries": list(EventDelivery.objects.filter(event__merchant=merchant).order_by("pk").values()),
        "events": CustomerEvent.objects.filter(merchant=merchant).count(),
    }


def assert_not_stored(response) -> None:
    assert "no-store" in response.get("Cache-Control", ""), response.request["PATH_INFO"]


# --- the API ---------------------------------------------------------------------------------------------------


def methods_of(route: Route) -> list[str]:
    """The HTTP methods a DRF viewset route answers, read from the route itself."""
    return [method.upper() for method in route.pattern.callback.actions]


API_BODIES = {"POST": {"firstname": "X"}, "PUT": {"firstname": "X"}, "PATCH": {"firstname": "X"}}


def api_call(client: APIClient, method: str, url: str):
    if method in API_BODIES:
        return client.generic(method, url, json.dumps(API_BODIES[method]), content_type="application/json")
    return client.generic(method, url)


@pytest.mark.parametrize("route", [r for r in routes("api") if r.kwargs], ids=lambda r: r.name)
def test_merchant_a_gets_404_for_every_api_call_on_merchant_bs_objects_and_changes_nothing(
    route, world_a, world_b, api_client_for
):
    client = api_client_for(world_a.merchant)
    before = snapshot(world_b)

    for method in methods_of(route):
        response = api_call(client, method, reverse(route.name, kwargs={k: world_b.kwargs()[k] for k in route.kwargs}))
        assert response.status_code == 404, (method, response.status_code, response.content[:200])
        assert world_b.marker not in response.content.decode()
        assert_not_stored(response)

    assert snapshot(world_b) == before
    own = client.get(reverse(route.name, kwargs={k: world_a.kwargs()[k] for k in route.kwargs}))
    assert own.status_code == 200, "A's own object must answer, or the 404s above prove nothing"


def b_only_strings(world: World) -> list[str]:
    """Strings only merchant B's data contains (not a search term A types)."""
    return [
        world.customer.email,
        world.customer.company,
        f"{world.marker.lower()}.example.com",
        str(world.customer.pk),
        str(world.endpoint.pk),
        world.client.client_id,
        str(world.customer_import.pk),
        str(world.customer_export.pk),
    ]


@pytest.mark.parametrize(
    "route", [r for r in routes("api") if not r.kwargs and "GET" in methods_of(r)], ids=lambda r: r.name
)
def test_merchant_bs_rows_never_appear_in_merchant_as_lists_filters_or_searches(
    route, world_a, world_b, api_client_for
):
    client = api_client_for(world_a.merchant)
    b = world_b.customer
    queries = [
        {},
        {"email": b.email},
        {"q": world_b.marker},
        {"company": b.company},
        {"address_country": "GBR"},
        {"custom_fields[tier]": world_b.marker},
        {"created_after": "2000-01-01"},
    ]

    for query in queries if route.name == "api:customer-list" else [{}]:
        response = client.get(reverse(route.name), query)
        assert response.status_code == 200, response.content[:200]
        body = response.content.decode()
        for text in b_only_strings(world_b):
            assert text not in body, (query, text)
        assert_not_stored(response)
    assert world_a.marker.lower() in client.get(reverse(route.name)).content.decode().lower()


@pytest.mark.parametrize("route", routes("api"), ids=lambda r: r.name)
def test_a_read_only_token_cannot_write_anywhere(route, world_a, world_b, api_client_for):
    client = api_client_for(world_a.merchant, scope="customers:read")
    before = snapshot(world_a)
    url = reverse(route.name, kwargs={k: world_a.kwargs()[k] for k in route.kwargs})

    writes = [method for method in methods_of(route) if method not in ("GET", "HEAD", "OPTIONS")]
    for method in writes:
        response = api_call(client, method, url)
        assert response.status_code == 403, (method, response.status_code)
        assert "customers:write" in response.content.decode()

    assert snapshot(world_a) == before
    if "GET" in methods_of(route):
        assert client.get(url).status_code == 200  # reading is what the token is for


# --- admin -----------------------------------------------------------------------------------------------------

ADMIN_PAGES = ["/admin/"] + [
    reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist") for model in admin.site._registry
]


@pytest.mark.parametrize("url", ADMIN_PAGES)
def test_a_merchant_token_or_portal_login_cannot_reach_admin(url, world_a, token_for, portal_client_for):
    token = token_for(world_a.merchant)
    portal_admin = portal_client_for(world_a.merchant, "admin")

    for response in (
        Client().get(url, HTTP_AUTHORIZATION=f"Bearer {token}"),
        portal_admin.get(url),
    ):
        assert response.status_code == 302, response.status_code
        assert response["Location"].startswith("/admin/login/")


# --- the portal ------------------------------------------------------------------------------------------------


def portal_url(route: Route, world: World) -> str:
    return reverse(route.name, kwargs={k: world.kwargs()[k] for k in route.kwargs})


@pytest.mark.parametrize("route", [r for r in routes("portal") if r.kwargs], ids=lambda r: r.name)
def test_merchant_a_gets_404_for_every_portal_page_on_merchant_bs_objects_and_changes_nothing(
    route, world_a, world_b, portal_client_for
):
    client = portal_client_for(world_a.merchant, "admin")
    before = snapshot(world_b)
    url = portal_url(route, world_b)

    posted = client.post(url, {"role": "admin", "url": "https://evil.example.com", "firstname": "Evil"})
    fetched = client.get(url)

    assert posted.status_code == 404, posted.status_code
    assert fetched.status_code in (404, 405), fetched.status_code  # 405: a POST-only action
    for response in (posted, fetched):
        assert world_b.marker not in response.content.decode()
        assert_not_stored(response)
    assert snapshot(world_b) == before


@pytest.mark.parametrize("route", [r for r in routes("portal") if r.kwargs], ids=lambda r: r.name)
def test_merchant_as_own_objects_answer_on_every_portal_page(route, world_a, portal_client_for):
    """The other half of the 404 test: the same page with A's own object is not a 404."""
    client = portal_client_for(world_a.merchant, "admin")

    response = client.get(portal_url(route, world_a))

    assert response.status_code in (200, 405), response.status_code  # 405: a POST-only action


@pytest.mark.parametrize("route", [r for r in routes("portal") if not r.kwargs], ids=lambda r: r.name)
def test_merchant_bs_data_never_appears_on_merchant_as_portal_pages(route, world_a, world_b, portal_client_for):
    client = portal_client_for(world_a.merchant, "admin")
    searches = [{}, {"q": world_b.marker}, {"country": "GBR"}]

    for query in searches:
        response = client.get(reverse(route.name), query)
        assert response.status_code in (200, 302, 405), response.status_code
        content = (b"".join(response.streaming_content) if response.streaming else response.content).decode()
        for text in b_only_strings(world_b):
            assert text not in content, (route.name, query, text)
        assert_not_stored(response)


# The portal's bulk actions take customer ids in the POSTed form, not in the URL.
BULK_ACTIONS = [
    ("portal:customers_selected", {"action": "export"}),
    ("portal:customers_selected", {"action": "delete"}),
    ("portal:customers_selected_delete", {}),
]


@pytest.mark.parametrize(("name", "data"), BULK_ACTIONS, ids=lambda v: str(v))
@pytest.mark.parametrize("role", ["admin", "staff"])
def test_bulk_actions_on_merchant_bs_ids_change_nothing_and_show_nothing_of_b(
    name, data, role, world_a, world_b, portal_client_for, django_capture_on_commit_callbacks
):
    client = portal_client_for(world_a.merchant, role)
    before_a, before_b = snapshot(world_a), snapshot(world_b)

    with django_capture_on_commit_callbacks(execute=False):
        response = client.post(reverse(name), {**data, "customer_ids": [str(world_b.customer.pk)]}, follow=True)

    assert response.status_code == 200
    content = response.content.decode()
    for text in b_only_strings(world_b):
        assert text not in content, (name, text)
    assert snapshot(world_b) == before_b
    assert snapshot(world_a) == before_a  # no export of nothing, no deletion
    assert_not_stored(response)


@pytest.mark.parametrize("route", [r for r in routes("portal") if CLASSIFIED[r.name].admin_only], ids=lambda r: r.name)
def test_a_staff_member_cannot_use_admin_role_pages(route, world_a, portal_client_for):
    client = portal_client_for(world_a.merchant, "staff")
    before = snapshot(world_a)
    url = portal_url(route, world_a)

    posted = client.post(url, {"role": "admin", "name": "Sneaky", "url": "https://evil.example.com"})
    fetched = client.get(url)

    assert posted.status_code == 403, posted.status_code
    assert fetched.status_code in (403, 405), fetched.status_code
    assert snapshot(world_a) == before


@pytest.mark.parametrize(
    "route", [r for r in routes("portal") if not CLASSIFIED[r.name].admin_only], ids=lambda r: r.name
)
def test_a_staff_member_can_use_the_customer_pages(route, world_a, portal_client_for):
    """The other half: the role rule is not just refusing everyone."""
    client = portal_client_for(world_a.merchant, "staff")

    assert client.get(portal_url(route, world_a)).status_code in (200, 302, 405)


ACCOUNT_RECOVERY = [r for r in ROUTES if r.name.startswith("portal:password_reset")]


@pytest.mark.parametrize("route", ACCOUNT_RECOVERY, ids=lambda r: r.name)
def test_the_account_recovery_pages_open_without_a_login_show_no_merchant_data_and_are_never_stored(
    route, world_a, world_b, portal_client_for
):
    kwargs = {"uidb64": "MQ", "token": "made-up-token"}
    url = reverse(route.name, kwargs={k: kwargs[k] for k in route.kwargs})

    for client in (Client(), portal_client_for(world_a.merchant, "admin")):
        response = client.get(url)
        assert response.status_code in (200, 302, 404), (route.name, response.status_code)
        for text in b_only_strings(world_b):
            assert text not in response.content.decode()
        assert_not_stored(response)


@pytest.mark.parametrize("route", routes("portal"), ids=lambda r: r.name)
def test_someone_not_logged_in_gets_the_login_page_for_every_portal_page(route, world_a):
    response = Client().get(portal_url(route, world_a))

    assert response.status_code in (302, 405)
    if response.status_code == 302:
        assert response["Location"].startswith("/portal/login/")


def test_merchant_bs_events_are_never_queued_for_merchant_as_webhooks(world_a, world_b, api_client_for):
    api_client_for(world_b.merchant).patch(
        reverse("api:customer-detail", kwargs={"customer_id": world_b.customer.pk}), {"lastname": "B"}, format="json"
    )

    to_a = EventDelivery.objects.filter(endpoint=world_a.endpoint)
    assert to_a.exists()
    assert set(to_a.values_list("event__merchant", flat=True)) == {world_a.merchant.pk}
    assert EventDelivery.objects.filter(endpoint=world_b.endpoint).count() == 2  # B's created and updated
