"""Forwarding customer events to the gateway and to webhooks, against real HTTP receivers."""

import datetime
import hashlib
import hmac
import threading
import time

import pytest
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils import timezone

from core.scoping import scopes_disabled
from customers.services import customer_create, customer_delete, customer_update
from events.models import CustomerEvent, EventDelivery, WebhookEndpoint
from events.selectors import delivery_retry_refusal
from events.services import delivery_retry
from events.worker import Worker
from tests.http_receiver import Receiver, refused_url

GATEWAY_SECRET = "gateway-test-secret"


# The verification snippet of docs/events.md, verbatim.
def verify_signature(secret: str, headers, body: bytes, tolerance: int = 300) -> bool:
    timestamp = headers["Vault-Timestamp"]
    expected = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    signature = headers["Vault-Signature"].removeprefix("v1=")
    recent = abs(time.time() - int(timestamp)) <= tolerance
    return recent and hmac.compare_digest(expected, signature)


@pytest.fixture
def gateway(settings, receiver):
    """The gateway is `receiver`; failed attempts are due again at once, three attempts at most."""
    settings.GATEWAY_URL = receiver.url
    settings.GATEWAY_SIGNING_SECRET = GATEWAY_SECRET
    settings.EVENT_DELIVERY_BACKOFF_BASE = 0
    settings.EVENT_DELIVERY_MAX_ATTEMPTS = 3
    settings.EVENT_DELIVERY_TIMEOUT = 2
    settings.WEBHOOK_ALLOW_PRIVATE_NETWORKS = True
    return receiver


@pytest.fixture
def webhook_receiver():
    server = Receiver().start()
    yield server
    server.stop()


def create(merchant, **data):
    return customer_create(merchant=merchant, data=data or {"firstname": "Ada"})


def drain() -> Worker:
    worker = Worker()
    worker.drain()
    return worker


def gateway_delivery(customer_id) -> EventDelivery:
    return EventDelivery.objects.get(destination=EventDelivery.GATEWAY, event__customer_id=customer_id)


def test_the_gateway_gets_the_customer_without_address_country_when_it_has_none(gateway, merchant):
    customer = create(merchant, firstname="Ada", lastname="Lovelace", email="ada@example.com")

    drain()

    assert gateway.bodies() == [
        {
            "customer_id": str(customer.customer_id),
            "merchant_id": str(merchant.pk),
            "firstname": "Ada",
            "lastname": "Lovelace",
            "email": "ada@example.com",
            "company": None,
        }
    ]
    assert gateway_delivery(customer.customer_id).status == EventDelivery.Status.SUCCEEDED


def test_the_gateway_gets_address_country_when_present_and_never_custom_fields(gateway, merchant):
    customer = create(
        merchant,
        company="Acme",
        address_country="USA",
        options={"custom_fields": [{"name": "loyalty", "type": "string", "value": "gold"}]},
    )

    drain()

    assert gateway.bodies() == [
        {
            "customer_id": str(customer.customer_id),
            "merchant_id": str(merchant.pk),
            "firstname": None,
            "lastname": None,
            "email": None,
            "company": "Acme",
            "address_country": "USA",
        }
    ]


def test_the_gateway_gets_the_phone_each_address_part_and_the_reference_only_when_given(gateway, merchant):
    customer = create(
        merchant,
        firstname="Ada",
        phone="+44 20 7183 8750",
        address={"line1": "10 Downing Street", "line2": "", "city": "London", "postal_code": "sw1a 2aa"},
        address_country="GBR",
        reference="CUST-1",
    )

    drain()

    assert gateway.bodies() == [
        {
            "customer_id": str(customer.customer_id),
            "merchant_id": str(merchant.pk),
            "firstname": "Ada",
            "lastname": None,
            "email": None,
            "company": None,
            "phone": "+442071838750",
            "address": {"line1": "10 Downing Street", "city": "London", "postal_code": "SW1A 2AA"},
            "address_country": "GBR",
            "reference": "CUST-1",
        }
    ]


def test_a_webhook_gets_the_whole_profile_in_the_customer_snapshot(merchant):
    customer = create(merchant, firstname="Ada", phone="+14155550123", address={"city": "Springfield"})

    payload = CustomerEvent.objects.get(customer_id=customer.customer_id).payload

    assert payload["phone"] == "+14155550123"
    assert payload["address"] == {
        "line1": None,
        "line2": None,
        "city": "Springfield",
        "region": None,
        "postal_code": None,
    }
    assert payload["reference"] is None


def test_each_request_is_signed_over_timestamp_and_body_and_names_the_event(gateway, merchant):
    customer = create(merchant)

    drain()

    [request] = gateway.requests
    event = CustomerEvent.objects.get(customer_id=customer.customer_id)
    assert request.headers["Content-Type"] == "application/json"
    assert request.headers["Vault-Event-Id"] == str(event.event_id)
    assert request.headers["Vault-Event-Type"] == "customer.created"
    assert request.headers["Vault-Delivery-Attempt"] == "1"
    assert verify_signature(GATEWAY_SECRET, request.headers, request.body)
    assert not verify_signature("another secret", request.headers, request.body)
    assert not verify_signature(GATEWAY_SECRET, request.headers, request.body.replace(b"Ada", b"Eve"))


def test_a_webhook_endpoint_gets_the_whole_event_signed_with_its_own_secret(gateway, webhook_receiver, merchant):
    endpoint = WebhookEndpoint.objects.create(
        merchant=merchant, url=webhook_receiver.url, enabled_events=["customer.created"], secret="whsec_test"
    )
    customer = create(
        merchant, firstname="Ada", options={"custom_fields": [{"name": "tier", "type": "string", "value": "gold"}]}
    )

    drain()

    [request] = webhook_receiver.requests
    event = CustomerEvent.objects.get(customer_id=customer.customer_id)
    body = request.json()
    assert body["id"] == str(event.event_id) == request.headers["Vault-Event-Id"]
    assert body["type"] == "customer.created"
    assert body["created"] == event.created_at.isoformat().replace("+00:00", "Z")
    assert body["data"]["customer_id"] == str(customer.customer_id)
    assert body["data"]["options"] == {"custom_fields": [{"name": "tier", "type": "string", "value": "gold"}]}
    assert verify_signature(endpoint.secret, request.headers, request.body)
    assert not verify_signature(GATEWAY_SECRET, request.headers, request.body)


def test_an_endpoint_gets_only_the_event_types_it_enabled(gateway, webhook_receiver, merchant):
    WebhookEndpoint.objects.create(
        merchant=merchant, url=webhook_receiver.url, enabled_events=["customer.updated"], secret="whsec_test"
    )
    customer = create(merchant)
    customer_update(customer=customer, data={"lastname": "Lovelace"})

    drain()

    assert [r.headers["Vault-Event-Type"] for r in webhook_receiver.requests] == ["customer.updated"]
    assert [r.headers["Vault-Event-Type"] for r in gateway.requests] == ["customer.created", "customer.updated"]


def test_a_500_is_retried_until_the_receiver_accepts_it(gateway, merchant):
    gateway.respond = lambda request: 500 if request.number < 3 else 204
    customer = create(merchant)

    drain()

    assert len(gateway.requests) == 3
    assert len({r.headers["Vault-Event-Id"] for r in gateway.requests}) == 1
    assert [r.headers["Vault-Delivery-Attempt"] for r in gateway.requests] == ["1", "2", "3"]
    delivery = gateway_delivery(customer.customer_id)
    assert delivery.status == EventDelivery.Status.SUCCEEDED
    assert delivery.attempts == 3
    assert delivery.last_status_code == 204
    assert delivery.delivered_at is not None


def test_a_failed_attempt_is_due_again_after_an_exponential_backoff_with_jitter(gateway, merchant, settings):
    settings.EVENT_DELIVERY_BACKOFF_BASE = 60
    settings.EVENT_DELIVERY_MAX_ATTEMPTS = 5
    gateway.respond = lambda request: 503
    customer = create(merchant)

    before = timezone.now()
    drain()
    delivery = gateway_delivery(customer.customer_id)
    assert delivery.status == EventDelivery.Status.PENDING
    assert (delivery.attempts, delivery.last_status_code, delivery.last_error) == (1, 503, "HTTP 503")
    assert before + datetime.timedelta(seconds=30) <= delivery.next_attempt_at
    assert delivery.next_attempt_at <= timezone.now() + datetime.timedelta(seconds=60)

    drain()
    assert len(gateway.requests) == 1, "not due yet, so not sent again"

    EventDelivery.objects.filter(pk=delivery.pk).update(next_attempt_at=timezone.now())
    before = timezone.now()
    drain()
    delivery.refresh_from_db()
    assert delivery.attempts == 2
    assert before + datetime.timedelta(seconds=60) <= delivery.next_attempt_at
    assert delivery.next_attempt_at <= timezone.now() + datetime.timedelta(seconds=120)


def test_a_timeout_is_retried(gateway, merchant, settings):
    settings.EVENT_DELIVERY_TIMEOUT = 0.3
    released = threading.Event()

    def slow_first(request):
        if request.number == 1:
            released.wait(5)
        return 200

    gateway.respond = slow_first
    customer = create(merchant)

    try:
        drain()
    finally:
        released.set()

    assert len(gateway.requests) == 2
    delivery = gateway_delivery(customer.customer_id)
    assert (delivery.status, delivery.attempts) == (EventDelivery.Status.SUCCEEDED, 2)


def test_a_refused_connection_is_retried_then_given_up_and_kept_for_inspection(gateway, merchant, settings):
    settings.GATEWAY_URL = refused_url()
    customer = create(merchant)

    worker = drain()

    delivery = gateway_delivery(customer.customer_id)
    assert delivery.status == EventDelivery.Status.FAILED
    assert delivery.attempts == 3
    assert delivery.last_status_code is None
    assert delivery.last_error.startswith("Connection failed")
    assert worker.counts["failed"] == 1


def test_the_worker_gives_up_after_the_maximum_attempts(gateway, merchant):
    gateway.respond = lambda request: 500
    customer = create(merchant)

    drain()
    drain()

    assert len(gateway.requests) == 3
    delivery = gateway_delivery(customer.customer_id)
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == (EventDelivery.Status.FAILED, 3, 500)


def test_a_redirect_is_not_followed_and_counts_as_a_failure(gateway, merchant, settings):
    settings.EVENT_DELIVERY_MAX_ATTEMPTS = 1
    gateway.respond = lambda request: 302
    customer = create(merchant)

    drain()

    delivery = gateway_delivery(customer.customer_id)
    assert (delivery.status, delivery.last_status_code) == (EventDelivery.Status.FAILED, 302)
    assert len(gateway.requests) == 1


def test_a_customers_later_events_wait_while_an_earlier_one_is_retrying(gateway, merchant, settings):
    settings.EVENT_DELIVERY_BACKOFF_BASE = 60
    gateway.respond = lambda request: 500 if request.number == 1 else 200
    ada = create(merchant, firstname="Ada")
    customer_update(customer=ada, data={"lastname": "Lovelace"})
    customer_update(customer=ada, data={"email": "ada@example.com"})
    bob = create(merchant, firstname="Bob")

    drain()
    # Ada's first event failed once and waits for its retry; her later ones wait behind it. Bob is not held up.
    assert [(b["customer_id"], b["firstname"]) for b in gateway.bodies()] == [
        (str(ada.customer_id), "Ada"),
        (str(bob.customer_id), "Bob"),
    ]

    EventDelivery.objects.filter(status=EventDelivery.Status.PENDING).update(next_attempt_at=timezone.now())
    drain()

    ada_bodies = [b for b in gateway.bodies() if b["customer_id"] == str(ada.customer_id)]
    assert [(b["lastname"], b["email"]) for b in ada_bodies] == [
        (None, None),
        (None, None),
        ("Lovelace", None),
        ("Lovelace", "ada@example.com"),
    ]


def test_a_failed_event_no_longer_holds_back_its_customers_later_events(gateway, merchant):
    gateway.respond = lambda request: 500 if request.json().get("lastname") is None else 200
    customer = create(merchant, firstname="Ada")
    customer_update(customer=customer, data={"lastname": "Lovelace"})

    drain()

    created, updated = EventDelivery.objects.filter(destination=EventDelivery.GATEWAY).order_by("id")
    assert created.status == EventDelivery.Status.FAILED
    assert updated.status == EventDelivery.Status.SUCCEEDED
    assert [b["lastname"] for b in gateway.bodies()] == [None, None, None, "Lovelace"]


def test_a_failed_delivery_can_be_retried_and_then_goes_out(gateway, merchant):
    gateway.respond = lambda request: 500 if request.number <= 3 else 200
    customer = create(merchant)
    drain()
    delivery = gateway_delivery(customer.customer_id)
    assert delivery.status == EventDelivery.Status.FAILED

    delivery_retry(merchant=merchant, delivery=delivery)
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == (EventDelivery.Status.PENDING, 0)
    drain()

    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == (EventDelivery.Status.SUCCEEDED, 1)
    assert len(gateway.requests) == 4


def test_a_failed_delivery_superseded_by_a_later_event_is_not_retried(gateway, merchant):
    gateway.respond = lambda request: 500 if request.json().get("lastname") is None else 200
    customer = create(merchant, firstname="Ada")
    customer_update(customer=customer, data={"lastname": "Lovelace"})
    drain()
    failed = EventDelivery.objects.get(status=EventDelivery.Status.FAILED)

    assert "later event" in delivery_retry_refusal(merchant=merchant, delivery=failed)
    with pytest.raises(ValidationError, match="later event"):
        delivery_retry(merchant=merchant, delivery=failed)
    failed.refresh_from_db()
    assert failed.status == EventDelivery.Status.FAILED


def test_a_retried_delivery_overtaken_by_a_later_event_while_it_was_queued_is_skipped_not_sent(gateway, merchant):
    # The retry passed its check, then a later event of the customer was written and went out first:
    # sending the retried one now would put the receiver back in the past.
    gateway.respond = lambda request: 500 if request.json().get("lastname") is None else 200
    customer = create(merchant, firstname="Ada")
    drain()
    failed = gateway_delivery(customer.customer_id)
    delivery_retry(merchant=merchant, delivery=failed)
    customer_update(customer=customer, data={"lastname": "Lovelace"})
    later = EventDelivery.objects.filter(destination=EventDelivery.GATEWAY).latest("id")
    EventDelivery.objects.filter(pk=later.pk).update(status=EventDelivery.Status.SUCCEEDED)  # went out meanwhile
    sent_before = len(gateway.requests)

    drain()

    failed.refresh_from_db()
    assert failed.status == EventDelivery.Status.SKIPPED
    assert "later event" in failed.last_error
    assert len(gateway.requests) == sent_before


def test_another_merchants_delivery_cannot_be_retried(gateway, merchant, other_merchant):
    gateway.respond = lambda request: 500
    customer = create(merchant)
    drain()

    with pytest.raises(EventDelivery.DoesNotExist):
        delivery_retry(merchant=other_merchant, delivery=gateway_delivery(customer.customer_id))


def test_a_rolled_back_change_records_no_event_and_sends_nothing(gateway, merchant):
    def create_then_fail():
        with transaction.atomic():
            create(merchant, firstname="Ada")
            raise RuntimeError("the surrounding work failed")

    with pytest.raises(RuntimeError):
        create_then_fail()

    drain()

    assert not CustomerEvent.objects.exists()
    assert not EventDelivery.objects.exists()
    assert gateway.requests == []


def test_gateway_deliveries_stay_pending_while_the_gateway_url_is_unset(gateway, webhook_receiver, merchant, settings):
    settings.GATEWAY_URL = ""
    WebhookEndpoint.objects.create(
        merchant=merchant, url=webhook_receiver.url, enabled_events=["customer.created"], secret="whsec_test"
    )
    customer = create(merchant)

    drain()

    delivery = gateway_delivery(customer.customer_id)
    assert (delivery.status, delivery.attempts) == (EventDelivery.Status.PENDING, 0)
    assert len(webhook_receiver.requests) == 1, "webhooks do not wait for the gateway"

    settings.GATEWAY_URL = gateway.url
    drain()
    delivery.refresh_from_db()
    assert delivery.status == EventDelivery.Status.SUCCEEDED
    assert [b["customer_id"] for b in gateway.bodies()] == [str(customer.customer_id)]


@pytest.mark.parametrize("change", ["create", "update", "delete"])
def test_a_change_queues_the_gateway_and_exactly_the_merchants_active_endpoints_subscribed_to_it(
    merchant, other_merchant, change
):
    customer = create(merchant)
    event_type = f"customer.{change}d"
    everything = ["customer.created", "customer.updated", "customer.deleted"]

    def endpoint(owner, events, active=True):
        return WebhookEndpoint.objects.create(
            merchant=owner, url="https://hooks.example.com/x", enabled_events=events, is_active=active, secret="s"
        )

    wanted = [endpoint(merchant, [event_type]), endpoint(merchant, everything)]
    endpoint(merchant, [t for t in everything if t != event_type])  # other event types only
    endpoint(merchant, everything, active=False)
    endpoint(other_merchant, everything)

    if change == "create":
        customer = create(merchant, lastname="Again")
    elif change == "update":
        customer_update(customer=customer, data={"lastname": "Lovelace"})
    else:
        customer_delete(customer=customer)

    event = CustomerEvent.objects.filter(customer_id=customer.customer_id, type=event_type).get()
    deliveries = EventDelivery.objects.filter(event=event)
    assert sorted((d.destination, d.endpoint_id) for d in deliveries) == sorted(
        [(EventDelivery.GATEWAY, None)] + [(EventDelivery.WEBHOOK, e.pk) for e in wanted]
    )
    assert {d.status for d in deliveries} == {EventDelivery.Status.PENDING}


def test_deliveries_to_a_disabled_endpoint_wait_until_it_is_enabled_again(gateway, webhook_receiver, merchant):
    endpoint = WebhookEndpoint.objects.create(
        merchant=merchant, url=webhook_receiver.url, enabled_events=["customer.created"], secret="whsec_test"
    )
    create(merchant)
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(is_active=False)

    drain()
    assert webhook_receiver.requests == []

    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(is_active=True)
    drain()
    assert len(webhook_receiver.requests) == 1


def test_an_erased_customers_unsent_events_are_skipped_and_only_the_deletion_goes_out(
    gateway, webhook_receiver, merchant, settings
):
    settings.GATEWAY_URL = ""
    WebhookEndpoint.objects.create(
        merchant=merchant, url=webhook_receiver.url, enabled_events=["customer.created"], secret="whsec_test"
    )
    webhook_receiver.respond = lambda request: 500
    customer = create(merchant, firstname="Ada", email="ada@example.com")
    customer_update(customer=customer, data={"lastname": "Lovelace"})
    drain()  # the webhook fails for good; the gateway is off
    customer_delete(customer=customer)

    settings.GATEWAY_URL = gateway.url
    worker = drain()

    assert gateway.bodies() == [{"customer_id": str(customer.customer_id), "merchant_id": str(merchant.pk)}]
    assert gateway.requests[0].headers["Vault-Event-Type"] == "customer.deleted"
    assert b"Ada" not in gateway.requests[0].body
    statuses = list(
        EventDelivery.objects.filter(destination=EventDelivery.GATEWAY).order_by("id").values_list("status", flat=True)
    )
    assert statuses == ["skipped", "skipped", "succeeded"]
    assert worker.counts["skipped"] == 2
    failed_webhook = EventDelivery.objects.get(destination=EventDelivery.WEBHOOK)
    assert "erased" in delivery_retry_refusal(merchant=merchant, delivery=failed_webhook)


@pytest.mark.django_db(transaction=True)
def test_an_endpoint_removed_while_its_delivery_was_out_leaves_nothing_to_record(gateway, webhook_receiver, merchant):
    endpoint = WebhookEndpoint.objects.create(
        merchant=merchant, url=webhook_receiver.url, enabled_events=["customer.created"], secret="whsec_test"
    )
    create(merchant)

    def remove_the_endpoint_then_accept(request):
        # What the portal does while the request is out; the receiver's thread has its own connection.
        try:
            with scopes_disabled():
                WebhookEndpoint.objects.filter(pk=endpoint.pk).delete()
        finally:
            connection.close()
        return 200

    webhook_receiver.respond = remove_the_endpoint_then_accept
    worker = drain()

    assert len(webhook_receiver.requests) == 1
    assert not EventDelivery.objects.filter(destination=EventDelivery.WEBHOOK).exists()
    assert worker.counts["succeeded"] == 2  # the gateway's and the webhook's


def test_a_webhook_to_a_private_address_is_refused_at_delivery(gateway, webhook_receiver, merchant, settings):
    settings.WEBHOOK_ALLOW_PRIVATE_NETWORKS = False
    settings.EVENT_DELIVERY_MAX_ATTEMPTS = 1
    # Written directly: validation would already refuse this URL.
    WebhookEndpoint.objects.create(
        merchant=merchant, url=webhook_receiver.url, enabled_events=["customer.created"], secret="whsec_test"
    )
    create(merchant)

    drain()

    delivery = EventDelivery.objects.get(destination=EventDelivery.WEBHOOK)
    assert delivery.status == EventDelivery.Status.FAILED
    assert delivery.last_error == "Refused: the URL's host is not a public address."  # nor which address
    assert webhook_receiver.requests == []


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_two_workers_on_postgresql_deliver_1000_events_each_exactly_once_in_order(gateway, merchant):
    customers = [create(merchant, firstname=f"C{i}", lastname="v0") for i in range(250)]
    for version in (1, 2, 3):
        for customer in customers:
            customer_update(customer=customer, data={"lastname": f"v{version}"})
    assert EventDelivery.objects.filter(status=EventDelivery.Status.PENDING).count() == 1000

    def slow_ok(request):
        time.sleep(0.001)  # so that both workers are busy at the same time
        return 200

    gateway.respond = slow_ok
    start = threading.Barrier(2)
    handled = {}

    def work(name: str) -> None:
        try:
            start.wait()
            handled[name] = Worker().drain()
        finally:
            connection.close()

    threads = [threading.Thread(target=work, args=(name,)) for name in ("one", "two")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    event_ids = [r.headers["Vault-Event-Id"] for r in gateway.requests]
    assert len(event_ids) == 1000
    assert len(set(event_ids)) == 1000
    assert sorted(handled.values())[0] > 0, f"both workers delivered: {handled}"
    assert sum(handled.values()) == 1000
    assert not EventDelivery.objects.exclude(status=EventDelivery.Status.SUCCEEDED).exists()
    by_customer: dict[str, list[str]] = {}
    for body in gateway.bodies():
        by_customer.setdefault(body["customer_id"], []).append(body["lastname"])
    assert set(map(tuple, by_customer.values())) == {("v0", "v1", "v2", "v3")}
