"""The home page: figures the member's role may see, and a card for every section."""

import datetime
import zoneinfo

import pytest
from django.utils import timezone

from customers.models import Customer, CustomerImport
from events.models import CustomerEvent, EventDelivery
from events.services import webhook_endpoint_create
from merchants.services import merchant_set_time_zone
from tests.factories import CustomerFactory


def figures(client) -> dict:
    return client.get("/portal/").context["figures"]


def test_staff_see_the_customer_and_import_figures_and_the_cards_they_may_open(portal_staff_client, merchant):
    CustomerFactory.create_batch(3, merchant=merchant)
    CustomerImport.objects.create(merchant=merchant, filename="a.csv", status=CustomerImport.Status.RUNNING)
    CustomerImport.objects.create(merchant=merchant, filename="b.csv", status=CustomerImport.Status.QUEUED)
    CustomerImport.objects.create(merchant=merchant, filename="c.csv", status=CustomerImport.Status.DONE)

    response = portal_staff_client.get("/portal/")
    html = response.content.decode()

    shown = response.context["figures"]
    assert (shown["customers"].value, shown["customers"].more) == (3, False)
    assert shown["created_this_week"].value == 3
    assert shown["imports_running"] == 2
    assert "webhooks_failing" not in shown
    assert "Webhook endpoints failing" not in html
    assert '<dd data-testid="figure-customers">3</dd>' in html
    assert "/portal/customers/" in html
    assert "/portal/imports/" in html
    assert "/portal/webhooks/" not in html
    assert "/portal/settings/" not in html


def test_admins_see_a_card_for_every_section_including_webhooks(portal_admin_client):
    html = portal_admin_client.get("/portal/").content.decode()

    for section in ("customers/", "customers/new/", "imports/", "webhooks/", "credentials/", "staff/", "settings/"):
        assert f'class="card" href="/portal/{section}"' in html, section
    assert "Webhook endpoints failing" in html


def test_the_customer_count_stops_at_its_cap_and_says_more_than(portal_staff_client, merchant, monkeypatch):
    monkeypatch.setattr("portal.views.account.HOME_COUNT_CAP", 3)
    CustomerFactory.create_batch(5, merchant=merchant)

    html = portal_staff_client.get("/portal/").content.decode()

    assert '<dd data-testid="figure-customers">More than 3</dd>' in html


def test_this_week_starts_on_monday_in_the_merchants_zone(portal_staff_client, merchant, other_merchant):
    tokyo = zoneinfo.ZoneInfo("Asia/Tokyo")
    today = timezone.now().astimezone(tokyo).date()
    monday = datetime.datetime.combine(
        today - datetime.timedelta(days=today.weekday()), datetime.time.min, tzinfo=tokyo
    )
    before, after = CustomerFactory.create_batch(2, merchant=merchant)
    Customer.objects.filter(pk=before.pk).update(created_at=monday - datetime.timedelta(minutes=1))
    Customer.objects.filter(pk=after.pk).update(created_at=monday + datetime.timedelta(minutes=1))
    CustomerFactory(merchant=other_merchant)
    merchant_set_time_zone(merchant=merchant, time_zone="Asia/Tokyo")

    shown = figures(portal_staff_client)

    assert shown["created_this_week"].value == 1
    assert shown["customers"].value == 2


def deliver(endpoint, status, *, attempts=1, last_attempt_at=None):
    event = CustomerEvent.objects.create(
        merchant=endpoint.merchant,
        customer_id="018f0000-0000-7000-8000-000000000000",
        type="customer.updated",
        payload={},
    )
    return EventDelivery.objects.create(
        event=event,
        destination=EventDelivery.WEBHOOK,
        endpoint=endpoint,
        status=status,
        attempts=attempts,
        last_attempt_at=last_attempt_at or timezone.now(),
    )


def test_an_endpoint_is_failing_while_a_delivery_is_retried_or_gave_up_today(portal_admin_client, merchant):
    def endpoint(name, **data):
        return webhook_endpoint_create(merchant=merchant, data={"url": f"https://{name}.example.com/hook", **data})

    retrying, gave_up, healthy, long_ago, disabled = (
        endpoint("retrying"),
        endpoint("gaveup"),
        endpoint("healthy"),
        endpoint("longago"),
        endpoint("disabled", is_active=False),
    )
    deliver(retrying, EventDelivery.Status.PENDING, attempts=2)
    deliver(gave_up, EventDelivery.Status.FAILED, attempts=8)
    deliver(healthy, EventDelivery.Status.SUCCEEDED)
    deliver(healthy, EventDelivery.Status.PENDING, attempts=0)
    deliver(long_ago, EventDelivery.Status.FAILED, last_attempt_at=timezone.now() - datetime.timedelta(days=3))
    deliver(disabled, EventDelivery.Status.FAILED)

    assert figures(portal_admin_client)["webhooks_failing"] == 2


@pytest.mark.parametrize("customers", [1, 30])
def test_the_home_page_costs_the_same_queries_however_many_customers(
    portal_admin_client, merchant, customers, django_assert_num_queries
):
    CustomerFactory.create_batch(customers, merchant=merchant)
    portal_admin_client.get("/portal/")

    # session, user, memberships; customers, created this week, imports running, webhooks failing
    with django_assert_num_queries(7):
        portal_admin_client.get("/portal/")
