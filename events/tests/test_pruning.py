"""Retention: events_prune deletes old finished deliveries and old events, in batches, never a pending one."""

import datetime
import threading
import uuid

import pytest
from django.db import connection, transaction
from django.utils import timezone

from events.models import CustomerEvent, EventDelivery, WebhookEndpoint
from events.services import event_rows, events_prune
from events.worker import Worker

DONE = EventDelivery.Status.SUCCEEDED


def record_events(merchant, count: int = 1, days_ago: float = 0) -> list[CustomerEvent]:
    """`count` customer.created events (a delivery to the gateway and to each endpoint), recorded `days_ago`."""
    subjects = [(uuid.uuid4(), {"firstname": "Ada"}) for _ in range(count)]
    with transaction.atomic():
        event_rows(merchant=merchant, type="customer.created", subjects=subjects, now=timezone.now()).write_many()
    events = CustomerEvent.objects.filter(customer_id__in=[subject for subject, _ in subjects])
    then = timezone.now() - datetime.timedelta(days=days_ago)
    events.update(created_at=then)
    EventDelivery.objects.filter(event__in=events).update(created_at=then)
    return list(events.order_by("id"))


def statuses(event: CustomerEvent) -> list[str]:
    return list(EventDelivery.objects.filter(event=event).order_by("id").values_list("status", flat=True))


@pytest.fixture
def retention(settings):
    settings.EVENT_DELIVERY_RETENTION_DAYS = 30
    settings.EVENT_RETENTION_DAYS = 30
    return settings


def test_old_finished_deliveries_and_their_events_are_pruned_and_recent_ones_kept(merchant, retention):
    old, recent = record_events(merchant, days_ago=31)[0], record_events(merchant, days_ago=29)[0]
    EventDelivery.objects.update(status=DONE)

    pruned = events_prune()

    assert (pruned.deliveries, pruned.events, pruned.more) == (1, 1, False)
    assert list(CustomerEvent.objects.values_list("pk", flat=True)) == [recent.pk]
    assert statuses(recent) == [DONE]
    assert not CustomerEvent.objects.filter(pk=old.pk).exists()


def test_a_pending_delivery_and_its_event_are_never_pruned_however_old(merchant, retention):
    WebhookEndpoint.objects.create(
        merchant=merchant, url="https://hooks.example.com/", enabled_events=["customer.created"], secret="s"
    )
    event = record_events(merchant, days_ago=400)[0]
    EventDelivery.objects.filter(destination=EventDelivery.GATEWAY).update(status=DONE)

    events_prune()

    assert statuses(event) == ["pending"], "the finished gateway delivery went, the pending webhook one stayed"
    assert CustomerEvent.objects.filter(pk=event.pk).exists()


def test_failed_and_skipped_deliveries_are_finished_too(merchant, retention):
    failed, skipped = record_events(merchant, count=2, days_ago=31)
    EventDelivery.objects.filter(event=failed).update(status=EventDelivery.Status.FAILED)
    EventDelivery.objects.filter(event=skipped).update(status=EventDelivery.Status.SKIPPED)

    events_prune()

    assert not EventDelivery.objects.exists()
    assert not CustomerEvent.objects.exists()


def test_the_retention_periods_are_settings(merchant, retention):
    retention.EVENT_DELIVERY_RETENTION_DAYS = 7
    retention.EVENT_RETENTION_DAYS = 90
    event = record_events(merchant, days_ago=10)[0]
    EventDelivery.objects.update(status=DONE)

    pruned = events_prune()

    assert (pruned.deliveries, pruned.events) == (1, 0)
    assert statuses(event) == []
    assert CustomerEvent.objects.filter(pk=event.pk).exists()


def test_pruning_goes_in_bounded_batches_and_stops_when_its_time_is_up(
    merchant, retention, django_assert_max_num_queries
):
    retention.EVENT_PRUNE_BATCH_SIZE = 2
    record_events(merchant, count=5, days_ago=31)
    EventDelivery.objects.update(status=DONE)

    first = events_prune(time_budget=0)  # one batch, then out of time
    assert (first.deliveries, first.events, first.more) == (2, 0, True)
    assert EventDelivery.objects.count() == 3

    rest = events_prune()
    assert (rest.deliveries, rest.events, rest.more) == (3, 5, False)
    assert not CustomerEvent.objects.exists()


def test_pruning_with_nothing_old_costs_a_few_queries(merchant, retention, django_assert_max_num_queries):
    record_events(merchant, count=20)
    EventDelivery.objects.update(status=DONE)

    with django_assert_max_num_queries(4):
        pruned = events_prune()

    assert (pruned.deliveries, pruned.events) == (0, 0)
    assert CustomerEvent.objects.count() == 20


@pytest.mark.django_db(transaction=True)
def test_the_worker_prunes_while_it_runs_in_a_thread_of_its_own_and_stops_when_asked(merchant, retention):
    retention.GATEWAY_URL = ""
    retention.EVENT_PRUNE_INTERVAL = 0.2
    record_events(merchant, count=3, days_ago=31)
    EventDelivery.objects.update(status=DONE)
    worker = Worker(poll_interval=0.05, concurrency=2)

    def run():
        try:
            worker.run()  # not the main thread: it installs no signal handler
        finally:
            connection.close()

    thread = threading.Thread(target=run)
    thread.start()
    try:
        deadline = timezone.now() + datetime.timedelta(seconds=30)
        while CustomerEvent.objects.exists() and timezone.now() < deadline:
            threading.Event().wait(0.05)
    finally:
        worker.request_stop()
        thread.join(30)

    assert not thread.is_alive()
    assert not CustomerEvent.objects.exists()
    assert not EventDelivery.objects.exists()
