"""Portal pages of event forwarding: webhook endpoints (admin), a customer's events, retrying a delivery."""

import re

import pytest
from django.utils import timezone

from customers.services import customer_create, customer_delete, customer_update
from events.models import EventDelivery, WebhookEndpoint
from events.services import webhook_endpoint_create

HOOK = "https://hooks.example.com/vault"


def endpoint_form(**changes) -> dict:
    return {"url": HOOK, "description": "CRM", "enabled_events": ["customer.created"], "is_active": "on", **changes}


def field_errors(html: str, field: str) -> list[str]:
    block = re.search(rf'id="id_{field}_error">(.*?)</ul>', html, re.S)
    return re.findall(r"<li>(.*?)</li>", block[1]) if block else []


# --- webhook endpoints ---------------------------------------------------------------------------


def test_webhooks_are_an_admin_page(portal_staff_client):
    response = portal_staff_client.get("/portal/webhooks/")

    assert response.status_code == 403
    assert "/portal/webhooks/" not in portal_staff_client.get("/portal/customers/").content.decode()


def test_the_webhooks_page_lists_only_the_merchants_endpoints(portal_admin_client, merchant, other_merchant):
    webhook_endpoint_create(merchant=merchant, data={"url": HOOK})
    webhook_endpoint_create(merchant=other_merchant, data={"url": "https://theirs.example.com/hook"})

    response = portal_admin_client.get("/portal/webhooks/")

    html = response.content.decode()
    assert response.status_code == 200
    assert HOOK in html
    assert "theirs.example.com" not in html
    assert 'href="/portal/webhooks/" aria-current="page"' in html


def test_the_add_form_starts_with_every_event_type_ticked(portal_admin_client):
    html = portal_admin_client.get("/portal/webhooks/").content.decode()

    for event_type in ("customer.created", "customer.updated", "customer.deleted"):
        assert re.search(rf'value="{event_type}"[^>]*checked', html), event_type


def test_adding_an_endpoint_shows_its_signing_secret_once(portal_admin_client, merchant):
    posted = portal_admin_client.post("/portal/webhooks/", endpoint_form())

    assert posted.status_code == 302
    response = portal_admin_client.get(posted["Location"])
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    secret = re.search(r'id="webhook-secret" type="text" readonly value="([^"]+)"', response.content.decode())[1]
    endpoint = WebhookEndpoint.objects.get(merchant=merchant)
    assert secret == endpoint.secret
    assert (endpoint.url, endpoint.description, endpoint.enabled_events) == (HOOK, "CRM", ["customer.created"])
    assert secret not in portal_admin_client.get("/portal/webhooks/").content.decode()


def test_reloading_the_page_with_the_signing_secret_adds_no_second_endpoint(portal_admin_client, merchant):
    posted = portal_admin_client.post("/portal/webhooks/", endpoint_form())
    portal_admin_client.get(posted["Location"])

    reloaded = portal_admin_client.get(posted["Location"], follow=True)

    assert WebhookEndpoint.objects.filter(merchant=merchant).count() == 1
    assert reloaded.redirect_chain == [("/portal/webhooks/", 302)]
    assert 'id="webhook-secret"' not in reloaded.content.decode()
    assert "shown only once" in reloaded.content.decode()


def test_the_domain_rules_show_beside_the_inputs(portal_admin_client):
    response = portal_admin_client.post(
        "/portal/webhooks/", endpoint_form(url="ftp://hooks.example.com", enabled_events=[])
    )

    assert response.status_code == 400
    html = response.content.decode()
    assert field_errors(html, "url") == ["Enter a valid http:// or https:// URL."]
    assert field_errors(html, "enabled_events")[0].startswith("Give a non-empty list of event types")
    assert not WebhookEndpoint.objects.exists()


def test_an_endpoint_on_a_private_address_is_refused_in_the_portal_too(portal_admin_client):
    response = portal_admin_client.post("/portal/webhooks/", endpoint_form(url="http://169.254.169.254/latest"))

    assert response.status_code == 400
    assert "must point at a public address" in field_errors(response.content.decode(), "url")[0]


def test_editing_an_endpoint_changes_it_and_keeps_its_secret(portal_admin_client, merchant):
    endpoint = webhook_endpoint_create(merchant=merchant, data={"url": HOOK})

    form = portal_admin_client.get(f"/portal/webhooks/{endpoint.id}/edit/")
    response = portal_admin_client.post(
        f"/portal/webhooks/{endpoint.id}/edit/",
        {"url": "https://new.example.com/h", "enabled_events": ["customer.deleted"]},
    )

    assert form.status_code == 200
    assert HOOK in form.content.decode()
    assert response.status_code == 302
    changed = WebhookEndpoint.objects.get(pk=endpoint.pk)
    assert (changed.url, changed.enabled_events, changed.is_active) == (
        "https://new.example.com/h",
        ["customer.deleted"],
        False,
    )
    assert changed.secret == endpoint.secret


def test_removing_an_endpoint_asks_first(portal_admin_client, merchant):
    endpoint = webhook_endpoint_create(merchant=merchant, data={"url": HOOK})

    assert portal_admin_client.get(f"/portal/webhooks/{endpoint.id}/delete/").status_code == 200
    assert WebhookEndpoint.objects.exists()
    response = portal_admin_client.post(f"/portal/webhooks/{endpoint.id}/delete/")

    assert response.status_code == 302
    assert not WebhookEndpoint.objects.exists()


@pytest.mark.parametrize("action", ["edit", "delete"])
def test_another_merchants_endpoint_is_a_404(portal_admin_client, other_merchant, action):
    theirs = webhook_endpoint_create(merchant=other_merchant, data={"url": HOOK})

    assert portal_admin_client.get(f"/portal/webhooks/{theirs.id}/{action}/").status_code == 404
    assert portal_admin_client.post(f"/portal/webhooks/{theirs.id}/{action}/", endpoint_form()).status_code == 404
    assert WebhookEndpoint.objects.get(pk=theirs.pk).url == HOOK


# --- a customer's events and their deliveries ----------------------------------------------------


@pytest.fixture
def customer_with_history(merchant):
    """Ada: created (gateway delivered, webhook failed), then updated (both pending)."""
    webhook_endpoint_create(merchant=merchant, data={"url": HOOK})
    customer = customer_create(merchant=merchant, data={"firstname": "Ada"})
    created = EventDelivery.objects.filter(event__customer_id=customer.customer_id)
    now = timezone.now()
    created.filter(destination=EventDelivery.GATEWAY).update(status="succeeded", attempts=1, last_attempt_at=now)
    created.filter(destination=EventDelivery.WEBHOOK).update(
        status="failed", attempts=30, last_attempt_at=now, last_status_code=500, last_error="HTTP 500"
    )
    return customer


def test_the_customer_detail_page_links_to_its_events(portal_staff_client, customer_with_history):
    customer_id = customer_with_history.customer_id

    html = portal_staff_client.get(f"/portal/customers/{customer_id}/").content.decode()

    assert f'href="/portal/customers/{customer_id}/events/"' in html


def test_the_events_page_shows_each_event_with_its_delivery_status_per_destination(
    portal_admin_client, customer_with_history
):
    customer_update(customer=customer_with_history, data={"lastname": "Lovelace"})

    response = portal_admin_client.get(f"/portal/customers/{customer_with_history.customer_id}/events/")

    assert response.status_code == 200
    html = response.content.decode()
    events = html.split('data-testid="event"')[1:]
    assert len(events) == 2
    assert "customer.updated" in events[0]
    assert "customer.created" in events[1]
    assert events[0].count('class="badge delivery-pending"') == 2
    assert 'class="badge delivery-succeeded"' in events[1]
    assert 'class="badge delivery-failed"' in events[1]
    assert "Processing gateway" in events[1]
    assert HOOK in events[1]
    assert "HTTP 500" in events[1]
    # The failed webhook delivery of the first event is superseded by the update, so no retry button.
    assert "carries newer data" in events[1]
    assert "/retry/" not in html


def test_an_admin_retries_a_failed_delivery(portal_admin_client, customer_with_history):
    failed = EventDelivery.objects.get(status="failed")
    page = portal_admin_client.get(f"/portal/customers/{customer_with_history.customer_id}/events/")
    assert f'action="/portal/deliveries/{failed.pk}/retry/"' in page.content.decode()

    response = portal_admin_client.post(f"/portal/deliveries/{failed.pk}/retry/", follow=True)

    assert response.redirect_chain[-1][0] == f"/portal/customers/{customer_with_history.customer_id}/events/"
    assert "queued again" in response.content.decode()
    failed.refresh_from_db()
    assert (failed.status, failed.attempts) == ("pending", 0)


def test_retrying_a_superseded_delivery_says_why_not(portal_admin_client, customer_with_history):
    customer_update(customer=customer_with_history, data={"lastname": "Lovelace"})
    failed = EventDelivery.objects.get(status="failed")

    response = portal_admin_client.post(f"/portal/deliveries/{failed.pk}/retry/", follow=True)

    assert "Not retried: A later event of this customer" in response.content.decode()
    failed.refresh_from_db()
    assert failed.status == "failed"


def test_staff_see_the_events_but_cannot_retry(portal_staff_client, customer_with_history):
    failed = EventDelivery.objects.get(status="failed")

    page = portal_staff_client.get(f"/portal/customers/{customer_with_history.customer_id}/events/")
    response = portal_staff_client.post(f"/portal/deliveries/{failed.pk}/retry/")

    assert page.status_code == 200
    assert "/retry/" not in page.content.decode()
    assert response.status_code == 403
    failed.refresh_from_db()
    assert failed.status == "failed"


def test_another_merchants_customer_events_and_deliveries_are_a_404(
    portal_client_for, other_merchant, customer_with_history
):
    outsider = portal_client_for(other_merchant, "admin")
    failed = EventDelivery.objects.get(status="failed")

    assert outsider.get(f"/portal/customers/{customer_with_history.customer_id}/events/").status_code == 404
    assert outsider.post(f"/portal/deliveries/{failed.pk}/retry/").status_code == 404
    failed.refresh_from_db()
    assert failed.status == "failed"


def test_a_deleted_customers_events_show_what_was_skipped(portal_admin_client, merchant):
    customer = customer_create(merchant=merchant, data={"firstname": "Ada"})
    customer_id = customer.customer_id
    customer_delete(customer=customer)
    EventDelivery.objects.filter(event__type="customer.created").update(status="skipped", last_error="Not sent: x")

    response = portal_admin_client.get(f"/portal/customers/{customer_id}/events/")

    html = response.content.decode()
    assert response.status_code == 200
    assert f"deleted customer <code>{customer_id}</code>" in html
    assert "Ada" not in html
    assert 'class="badge delivery-skipped"' in html
