"""The delivery worker as real processes: killed mid-delivery, beside an endpoint that hangs, at --concurrency 8."""

import itertools
import signal
import threading

import pytest

from customers.services import customer_create, customer_update
from events.models import CustomerEvent, EventDelivery, WebhookEndpoint
from tests.http_receiver import Receiver
from tests.worker_processes import database_for_subprocess, deliveries_as_recorded, start_worker, stop, wait_until

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

GATEWAY = {"GATEWAY_SIGNING_SECRET": "worker-test-secret"}
EVERY_TYPE = ["customer.created", "customer.updated", "customer.deleted"]


@pytest.fixture
def receivers():
    """receivers(n) -> n more HTTP receivers, stopped after the test."""
    started: list[Receiver] = []

    def make(n: int) -> list[Receiver]:
        started.extend(Receiver().start() for _ in range(n))
        return started[-n:]

    yield make
    for server in started:
        server.stop()


def test_a_worker_killed_mid_delivery_and_started_again_resends_only_the_unfinished_deliveries(
    receiver, merchant, tmp_path
):
    for i in range(6):
        customer_create(merchant=merchant, data={"firstname": f"C{i}"})
    fourth_in_flight, release = threading.Event(), threading.Event()

    def hold_the_fourth(request):
        if request.number == 4:
            fourth_in_flight.set()
            release.wait(30)
        return 200

    receiver.respond = hold_the_fourth
    # One request at a time (so the order of requests is the order of events); a short lease.
    settings = {**GATEWAY, "GATEWAY_URL": receiver.url, "EVENT_DELIVERY_TIMEOUT": "2", "EVENT_DELIVERY_LEASE": "5"}
    with database_for_subprocess(tmp_path) as database_url:

        def statuses():
            return [status for status, _, _ in deliveries_as_recorded(database_url)]

        worker = start_worker(database_url, "--concurrency", "1", **settings)
        try:
            wait_until(
                lambda: fourth_in_flight.is_set() and statuses()[:3] == ["succeeded"] * 3,
                "three deliveries are recorded and the fourth is in flight",
            )
            worker.send_signal(signal.SIGKILL)
            worker.wait(30)
        finally:
            release.set()
            stop(worker)
        # The dead worker's claims: unfinished, never attempted as far as the database knows, leased.
        assert deliveries_as_recorded(database_url)[3:] == [("pending", 0, True)] * 3

        restarted = start_worker(database_url, "--concurrency", "1", **settings)
        try:
            wait_until(lambda: statuses() == ["succeeded"] * 6, "the restarted worker has delivered the rest")
            restarted.send_signal(signal.SIGTERM)
            out, err = restarted.communicate(timeout=30)
        finally:
            stop(restarted)
    assert restarted.returncode == 0, err

    events = [str(event_id) for event_id in CustomerEvent.objects.order_by("id").values_list("event_id", flat=True)]
    sent = [request.headers["Vault-Event-Id"] for request in receiver.requests]
    assert sent == events[:4] + events[3:], "the fourth again (its outcome was never recorded), nothing else"
    assert list(EventDelivery.objects.order_by("id").values_list("attempts", flat=True)) == [1] * 6


def test_an_endpoint_that_hangs_holds_up_neither_another_merchants_endpoint_nor_the_gateway(
    receiver, receivers, merchant, other_merchant, tmp_path
):
    hanging, fast = receivers(2)
    release = threading.Event()

    def hang(request):
        release.wait(60)
        return 200

    hanging.respond = hang
    for owner, server in ((merchant, hanging), (other_merchant, fast)):
        WebhookEndpoint.objects.create(merchant=owner, url=server.url, enabled_events=EVERY_TYPE, secret="whsec_t")
    # The hanging endpoint's deliveries are the oldest: they are claimed first.
    for i in range(5):
        customer_create(merchant=merchant, data={"firstname": f"Slow {i}"})
    for i in range(20):
        customer_create(merchant=other_merchant, data={"firstname": f"Fast {i}"})
    settings = {
        **GATEWAY,
        "GATEWAY_URL": receiver.url,
        "WEBHOOK_ALLOW_PRIVATE_NETWORKS": "1",
        "EVENT_DELIVERY_TIMEOUT": "30",  # the hanging requests stay in flight through the test
        "EVENT_DELIVERY_LEASE": "70",
        "EVENT_DELIVERY_MAX_IN_FLIGHT": "2",  # the cap per destination, below --concurrency
    }
    with database_for_subprocess(tmp_path) as database_url:
        worker = start_worker(database_url, "--concurrency", "4", **settings)
        try:
            wait_until(
                lambda: len(hanging.requests) == 2 and len(fast.requests) == 20 and len(receiver.requests) == 25,
                "the fast endpoint and the gateway have everything while the hanging endpoint holds two requests",
            )
            wait_until(
                lambda: sorted(deliveries_as_recorded(database_url)).count(("succeeded", 1, False)) == 45,
                "the fast endpoint's and the gateway's deliveries are recorded",
            )
            assert len(hanging.requests) == 2, "no more than the cap in flight to the hanging endpoint"
            statuses = [status for status, _, _ in deliveries_as_recorded(database_url)]
            assert statuses.count("pending") == 5, "the hanging endpoint's, and only those, wait"
            release.set()
            worker.send_signal(signal.SIGTERM)
            out, err = worker.communicate(timeout=60)
        finally:
            release.set()
            stop(worker)
    assert worker.returncode == 0, err
    assert {request.json()["data"]["firstname"] for request in fast.requests} == {f"Fast {i}" for i in range(20)}


def test_each_customers_events_arrive_in_order_with_concurrency_8(receiver, merchant, tmp_path):
    customers = [customer_create(merchant=merchant, data={"firstname": f"C{i}", "lastname": "v0"}) for i in range(30)]
    for version in range(1, 5):
        for customer in customers:
            customer_update(customer=customer, data={"lastname": f"v{version}"})
    counter, lock = itertools.count(1), threading.Lock()

    def refuse_every_fifth(request):
        # Refused ones are retried at once (no backoff): a later event must still wait for them.
        with lock:
            return 500 if next(counter) % 5 == 0 else 200

    receiver.respond = refuse_every_fifth
    settings = {**GATEWAY, "GATEWAY_URL": receiver.url, "EVENT_DELIVERY_BACKOFF_BASE": "0"}
    with database_for_subprocess(tmp_path) as database_url:
        worker = start_worker(database_url, "--concurrency", "8", **settings)
        try:
            wait_until(
                lambda: {status for status, _, _ in deliveries_as_recorded(database_url)} == {"succeeded"},
                "every event is delivered",
            )
            worker.send_signal(signal.SIGTERM)
            out, err = worker.communicate(timeout=30)
        finally:
            stop(worker)
    assert worker.returncode == 0, err

    arrivals: dict[str, list[str]] = {}
    for request in receiver.requests:  # in the order they arrived
        body = request.json()
        arrivals.setdefault(body["customer_id"], []).append(body["lastname"])
    assert len(arrivals) == 30
    assert len(receiver.requests) > 150, "some were refused and sent again"
    for versions in arrivals.values():
        assert versions == sorted(versions), f"a later event went out before an earlier one was accepted: {versions}"
        assert sorted(set(versions)) == ["v0", "v1", "v2", "v3", "v4"]
