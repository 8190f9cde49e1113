"""What operators see of the delivery backlog: /metrics (Prometheus text format) and the admin's backlog page."""

import datetime
import uuid

import pytest
from django.db import transaction
from django.utils import timezone
from prometheus_client.parser import text_string_to_metric_families

from events.models import EventDelivery, WebhookEndpoint
from events.services import event_rows

TOKEN = "metrics-test-token"


@pytest.fixture
def metrics_token(settings):
    settings.METRICS_TOKEN = TOKEN
    return TOKEN


def customer_create(*, merchant, data) -> None:
    """A customer.created event of a new subject, queued as a customer change queues it (the outbox's bulk path)."""
    subject = uuid.uuid4()
    with transaction.atomic():
        event_rows(
            merchant=merchant,
            type="customer.created",
            subjects=[(subject, {"customer_id": str(subject), **data})],
            now=timezone.now(),
        ).write_many()


def endpoint_of(merchant, url="https://hooks.example.com/vault") -> WebhookEndpoint:
    return WebhookEndpoint.objects.create(
        merchant=merchant, url=url, enabled_events=["customer.created"], secret="whsec_test"
    )


def scrape(client) -> dict[str, dict[tuple, float]]:
    """{metric name: {(destination, endpoint_id, merchant_id): value}} from GET /metrics."""
    response = client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain; version=")  # the Prometheus text format
    return {
        family.name: {
            (s.labels["destination"], s.labels["endpoint_id"], s.labels["merchant_id"]): s.value for s in family.samples
        }
        for family in text_string_to_metric_families(response.content.decode())
    }


def test_metrics_do_not_exist_without_a_token_setting(client, settings):
    settings.METRICS_TOKEN = ""

    assert client.get("/metrics").status_code == 404
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer ").status_code == 404


@pytest.mark.parametrize("authorization", [None, "Bearer wrong-token", f"Basic {TOKEN}", TOKEN])
def test_metrics_refuse_a_request_without_the_token(client, db, metrics_token, authorization):
    headers = {} if authorization is None else {"HTTP_AUTHORIZATION": authorization}

    response = client.get("/metrics", **headers)

    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert b"vault_event" not in response.content


def test_metrics_count_pending_deliveries_per_destination_and_the_age_of_the_oldest(
    client, merchant, other_merchant, metrics_token
):
    mine, theirs = endpoint_of(merchant), endpoint_of(other_merchant)
    for name in ("Ada", "Bob", "Cy"):
        customer_create(merchant=merchant, data={"firstname": name})
    customer_create(merchant=other_merchant, data={"firstname": "Dee"})
    oldest = EventDelivery.objects.filter(endpoint=mine).order_by("id").first()
    EventDelivery.objects.filter(pk=oldest.pk).update(created_at=timezone.now() - datetime.timedelta(minutes=10))
    # Done deliveries are no backlog.
    EventDelivery.objects.filter(endpoint=theirs).update(status=EventDelivery.Status.SUCCEEDED)

    metrics = scrape(client)

    gateway = ("gateway", "", "")
    assert metrics["vault_event_deliveries_pending"] == {gateway: 4, ("webhook", str(mine.pk), str(merchant.pk)): 3}
    ages = metrics["vault_event_deliveries_oldest_pending_age_seconds"]
    assert 600 <= ages[("webhook", str(mine.pk), str(merchant.pk))] < 700
    assert 0 <= ages[gateway] < 60


def test_metrics_show_the_gateway_with_nothing_pending(client, db, metrics_token):
    metrics = scrape(client)

    assert metrics["vault_event_deliveries_pending"] == {("gateway", "", ""): 0}
    assert metrics["vault_event_deliveries_oldest_pending_age_seconds"] == {("gateway", "", ""): 0}


def test_a_scrape_costs_the_same_queries_with_one_endpoint_or_many(
    client, merchant, metrics_token, django_assert_max_num_queries
):
    endpoint_of(merchant, "https://one.example.com/")
    customer_create(merchant=merchant, data={"firstname": "Ada"})
    scrape(client)
    for i in range(5):
        endpoint_of(merchant, f"https://hooks{i}.example.com/")
    customer_create(merchant=merchant, data={"firstname": "Bob"})

    with django_assert_max_num_queries(3):
        metrics = scrape(client)

    assert len(metrics["vault_event_deliveries_pending"]) == 7


def test_the_admin_shows_the_backlog_of_each_destination(admin_site_client, merchant):
    endpoint = endpoint_of(merchant)
    for name in ("Ada", "Bob"):
        customer_create(merchant=merchant, data={"firstname": name})

    changelist = admin_site_client.get("/admin/events/eventdelivery/").content.decode()
    page = admin_site_client.get("/admin/events/eventdelivery/backlog/")

    assert "/admin/events/eventdelivery/backlog/" in changelist
    assert page.status_code == 200
    html = page.content.decode()
    assert "Gateway" in html
    assert endpoint.url in html
    assert merchant.name in html
    assert html.count('<td class="backlog-pending">2</td>') == 2


def test_the_backlog_page_is_for_operators_only(portal_client_for, merchant):
    staff = portal_client_for(merchant)

    response = staff.get("/admin/events/eventdelivery/backlog/")

    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]
