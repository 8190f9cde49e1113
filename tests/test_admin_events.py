"""Django admin of events, deliveries and webhook endpoints: read-mostly, with a retry action."""

from customers.services import customer_create, customer_update
from events.models import CustomerEvent, EventDelivery
from events.services import webhook_endpoint_create


def test_events_deliveries_and_endpoints_are_listed_and_opened(admin_site_client, merchant):
    endpoint = webhook_endpoint_create(merchant=merchant, data={"url": "https://hooks.example.com/vault"})
    customer = customer_create(merchant=merchant, data={"firstname": "Ada"})
    event = CustomerEvent.objects.get(customer_id=customer.customer_id)
    delivery = EventDelivery.objects.filter(event=event).first()

    pages = [
        "/admin/events/customerevent/",
        f"/admin/events/customerevent/?q={customer.customer_id}",
        f"/admin/events/customerevent/{event.pk}/change/",
        "/admin/events/eventdelivery/?status__exact=pending",
        f"/admin/events/eventdelivery/?q={event.event_id}",
        f"/admin/events/eventdelivery/{delivery.pk}/change/",
        "/admin/events/webhookendpoint/",
        f"/admin/events/webhookendpoint/{endpoint.pk}/change/",
    ]
    for page in pages:
        assert admin_site_client.get(page).status_code == 200, page

    endpoint_page = admin_site_client.get(f"/admin/events/webhookendpoint/{endpoint.pk}/change/").content.decode()
    assert endpoint.secret not in endpoint_page
    assert (
        str(event.event_id) in admin_site_client.get(f"/admin/events/customerevent/{event.pk}/change/").content.decode()
    )


def test_nothing_is_added_or_edited_through_the_admin(admin_site_client):
    for model in ("customerevent", "eventdelivery", "webhookendpoint"):
        assert admin_site_client.get(f"/admin/events/{model}/add/").status_code == 403


def test_the_retry_action_queues_failed_deliveries_and_says_which_were_refused(admin_site_client, merchant):
    ada = customer_create(merchant=merchant, data={"firstname": "Ada"})
    bob = customer_create(merchant=merchant, data={"firstname": "Bob"})
    customer_update(customer=bob, data={"lastname": "Builder"})
    EventDelivery.objects.update(status=EventDelivery.Status.FAILED, attempts=30)
    ada_delivery = EventDelivery.objects.get(event__customer_id=ada.customer_id)
    bob_first, bob_second = EventDelivery.objects.filter(event__customer_id=bob.customer_id).order_by("id")

    response = admin_site_client.post(
        "/admin/events/eventdelivery/",
        {"action": "retry_deliveries", "_selected_action": [ada_delivery.pk, bob_first.pk, bob_second.pk]},
        follow=True,
    )

    html = response.content.decode()
    assert "2 delivery(ies) queued again." in html
    assert f"#{bob_first.pk}: A later event of this customer" in html
    statuses = {d.pk: (d.status, d.attempts) for d in EventDelivery.objects.all()}
    assert statuses == {ada_delivery.pk: ("pending", 0), bob_first.pk: ("failed", 30), bob_second.pk: ("pending", 0)}
