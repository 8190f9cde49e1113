"""An endpoint's delivery log in the portal, and the "Send a test event" button (a signed `ping`)."""

import json
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from customers.services import customer_create
from events.models import CustomerEvent, EventDelivery, WebhookEndpoint
from events.selectors import endpoint_delivery_log
from events.services import webhook_endpoint_create, webhook_endpoint_ping
from events.signing import signature
from events.worker import Worker
from tests.test_event_delivery import verify_signature

pytestmark = pytest.mark.django_db


@pytest.fixture
def local_hooks(settings):
    """Deliveries may go to the tests' receivers on 127.0.0.1 (events/addresses.py refuses it otherwise)."""
    settings.WEBHOOK_ALLOW_PRIVATE_NETWORKS = True
    settings.EVENT_DELIVERY_TIMEOUT = 2
    settings.GATEWAY_URL = ""


@pytest.fixture
def endpoint(merchant, local_hooks, receiver) -> WebhookEndpoint:
    return webhook_endpoint_create(merchant=merchant, data={"url": receiver.url, "description": "CRM"})


def log_url(endpoint) -> str:
    return f"/portal/webhooks/{endpoint.pk}/deliveries/"


def shown_delivery_ids(html: str) -> list[int]:
    return [int(pk) for pk in re.findall(r'data-testid="delivery" data-delivery="(\d+)"', html)]


def drain() -> None:
    Worker().drain()


# --- the test event -------------------------------------------------------------------------------------------


def test_send_a_test_event_queues_a_ping_for_that_endpoint_only(portal_admin_client, endpoint, merchant):
    other = webhook_endpoint_create(merchant=merchant, data={"url": "https://other.example.com/hook"})

    response = portal_admin_client.post(f"/portal/webhooks/{endpoint.pk}/test/")

    assert response.status_code == 302
    assert response["Location"] == log_url(endpoint)
    [delivery] = EventDelivery.objects.all()
    assert (delivery.endpoint, delivery.destination, delivery.event.type) == (endpoint, "webhook", "ping")
    assert not other.deliveries.exists()  # nor the gateway: no other delivery at all
    page = portal_admin_client.get(response["Location"]).content.decode()
    assert "Test event queued" in page
    assert "Pending" in page


def test_the_test_event_reaches_the_endpoint_signed_with_its_secret_and_the_log_shows_its_answer(
    portal_admin_client, endpoint, receiver
):
    portal_admin_client.post(f"/portal/webhooks/{endpoint.pk}/test/")

    drain()

    [request] = receiver.requests
    assert request.headers["Vault-Event-Type"] == "ping"
    assert verify_signature(endpoint.secret, request.headers, request.body)
    assert not verify_signature("whsec_someone-else", request.headers, request.body)
    body = request.json()
    assert body["type"] == "ping"
    assert body["data"]["endpoint_id"] == str(endpoint.pk)
    assert body["id"] == request.headers["Vault-Event-Id"]
    page = portal_admin_client.get(log_url(endpoint)).content.decode()
    assert "HTTP 200" in page
    assert "Succeeded" in page


def test_a_test_event_the_endpoint_refuses_shows_its_status_code_and_next_try(portal_admin_client, endpoint, receiver):
    receiver.respond = lambda request: 503
    portal_admin_client.post(f"/portal/webhooks/{endpoint.pk}/test/")

    drain()

    page = portal_admin_client.get(log_url(endpoint)).content.decode()
    assert "HTTP 503" in page
    assert "next try" in page
    assert EventDelivery.objects.get().attempts == 1


def test_the_signature_covers_the_exact_body_sent(endpoint, merchant, receiver):
    webhook_endpoint_ping(merchant=merchant, endpoint=endpoint)

    drain()

    [request] = receiver.requests
    timestamp = int(request.headers["Vault-Timestamp"])
    expected = signature(secret=endpoint.secret, timestamp=timestamp, body=request.body)
    assert request.headers["Vault-Signature"] == f"v1={expected}"
    assert json.loads(request.body)["data"]["message"]


def test_a_paused_endpoint_gets_no_test_event(portal_admin_client, endpoint):
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(is_active=False)

    page = portal_admin_client.post(f"/portal/webhooks/{endpoint.pk}/test/", follow=True).content.decode()

    assert "Not sent: This endpoint is paused" in page
    assert not EventDelivery.objects.exists()


def test_a_ping_is_not_an_event_type_an_endpoint_subscribes_to(portal_admin_client, merchant):
    response = portal_admin_client.post(
        "/portal/webhooks/", {"url": "https://hooks.example.com/x", "enabled_events": ["ping"], "is_active": "on"}
    )

    assert response.status_code == 400
    assert not WebhookEndpoint.objects.filter(merchant=merchant).exists()


def test_a_customer_change_is_not_held_back_by_a_pending_ping(endpoint, merchant):
    webhook_endpoint_ping(merchant=merchant, endpoint=endpoint)  # never sent in this test

    customer_create(merchant=merchant, data={"firstname": "Ada"})

    from events.worker import due_deliveries

    due = list(due_deliveries().filter(endpoint=endpoint))
    assert [delivery.event.type for delivery in due] == ["ping", "customer.created"]


# --- the log --------------------------------------------------------------------------------------------------


def test_the_log_shows_each_delivery_newest_first_with_its_status_code_and_attempts(
    portal_admin_client, endpoint, merchant, receiver
):
    customer_create(merchant=merchant, data={"firstname": "Ada"})
    drain()
    receiver.respond = lambda request: 500
    webhook_endpoint_ping(merchant=merchant, endpoint=endpoint)
    drain()

    html = portal_admin_client.get(log_url(endpoint)).content.decode()

    rows = re.findall(r'<tr data-testid="delivery".*?</tr>', html, re.S)
    assert len(rows) == 2
    for text in ("ping", "HTTP 500", "Pending", "next try"):
        assert text in rows[0]
    for text in ("customer.created", "HTTP 200", "Succeeded"):
        assert text in rows[1]


def test_the_log_pages_through_every_delivery_by_keyset_newest_first(portal_admin_client, endpoint, merchant):
    for _ in range(120):
        webhook_endpoint_ping(merchant=merchant, endpoint=endpoint)
    all_ids = list(EventDelivery.objects.order_by("-id").values_list("id", flat=True))

    pages, url = [], log_url(endpoint)
    while url:
        html = portal_admin_client.get(url).content.decode()
        pages.append(shown_delivery_ids(html))
        older = re.search(r'href="\?before=(\d+)" rel="next"', html)
        url = f"{log_url(endpoint)}?before={older[1]}" if older else None

    assert [len(page) for page in pages] == [50, 50, 20]
    assert [pk for page in pages for pk in page] == all_ids
    # From the last page, "Newer" goes back up to the page above it.
    newer = re.search(r'href="\?after=(\d+)" rel="prev"', html)[1]
    assert (
        shown_delivery_ids(portal_admin_client.get(f"{log_url(endpoint)}?after={newer}").content.decode()) == pages[1]
    )


def test_the_first_page_has_no_newer_link_and_a_bad_cursor_is_the_first_page(portal_admin_client, endpoint, merchant):
    for _ in range(3):
        webhook_endpoint_ping(merchant=merchant, endpoint=endpoint)

    for query in ("", "?before=abc", "?after=-5", "?before=99999999999999999999999"):
        html = portal_admin_client.get(log_url(endpoint) + query).content.decode()
        assert len(shown_delivery_ids(html)) == 3, query
        assert 'rel="prev"' not in html, query
        assert 'rel="next"' not in html, query


def test_a_log_page_costs_the_same_queries_however_long_the_log(
    portal_admin_client, endpoint, merchant, django_assert_num_queries
):
    webhook_endpoint_ping(merchant=merchant, endpoint=endpoint)
    portal_admin_client.get(log_url(endpoint))  # warm-up
    with CaptureQueriesContext(connection) as short_log:
        portal_admin_client.get(log_url(endpoint))
    for _ in range(60):
        webhook_endpoint_ping(merchant=merchant, endpoint=endpoint)
    before = EventDelivery.objects.order_by("-id").values_list("id", flat=True)[10]

    with django_assert_num_queries(len(short_log)):
        portal_admin_client.get(log_url(endpoint))
    with django_assert_num_queries(len(short_log) + 1):  # is there a newer page?
        portal_admin_client.get(f"{log_url(endpoint)}?before={before}")


def test_the_log_reads_the_endpoint_index_without_sorting(endpoint, merchant):
    webhook_endpoint_ping(merchant=merchant, endpoint=endpoint)
    with CaptureQueriesContext(connection) as queries:
        endpoint_delivery_log(merchant=merchant, endpoint=endpoint, before=10**6)
    sql = next(q["sql"] for q in queries if "ORDER BY" in q["sql"])

    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET LOCAL enable_seqscan = off")
            cursor.execute(f"EXPLAIN {sql}")
        else:
            cursor.execute(f"EXPLAIN QUERY PLAN {sql}")
        plan = "\n".join(str(row) for row in cursor.fetchall())

    assert "delivery_endpoint_recent" in plan, plan
    assert "Sort" not in plan, plan
    assert "TEMP B-TREE" not in plan, plan


def test_another_merchants_endpoint_log_and_test_button_are_404s(portal_admin_client, other_merchant):
    theirs = webhook_endpoint_create(merchant=other_merchant, data={"url": "https://theirs.example.com/hook"})

    assert portal_admin_client.get(log_url(theirs)).status_code == 404
    assert portal_admin_client.post(f"/portal/webhooks/{theirs.pk}/test/").status_code == 404
    assert not CustomerEvent.objects.exists()


def test_the_log_and_the_test_button_are_for_admins(portal_staff_client, merchant):
    mine = webhook_endpoint_create(merchant=merchant, data={"url": "https://hooks.example.com/x"})

    assert portal_staff_client.get(log_url(mine)).status_code == 403
    assert portal_staff_client.post(f"/portal/webhooks/{mine.pk}/test/").status_code == 403
    assert not CustomerEvent.objects.exists()


def test_the_webhooks_page_links_each_endpoint_to_its_log(portal_admin_client, endpoint):
    assert log_url(endpoint) in portal_admin_client.get("/portal/webhooks/").content.decode()
