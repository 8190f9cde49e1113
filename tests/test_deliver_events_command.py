"""`manage.py deliver_events`: --once in process, and the long-running worker as a real subprocess."""

import signal
import subprocess
import threading
import time

import pytest
from django.core.management import CommandError, call_command

from customers.services import customer_create
from events.models import EventDelivery
from tests.worker_processes import database_for_subprocess
from tests.worker_processes import start_worker as start_process

pytestmark = pytest.mark.slow


def start_worker(database_url: str, gateway_url: str, *args: str) -> subprocess.Popen:
    return start_process(database_url, *args, GATEWAY_URL=gateway_url, GATEWAY_SIGNING_SECRET="command-test-secret")


@pytest.mark.django_db(transaction=True)
def test_sigterm_finishes_the_delivery_in_flight_then_exits_cleanly(receiver, merchant, tmp_path):
    first = customer_create(merchant=merchant, data={"firstname": "Ada"})
    second = customer_create(merchant=merchant, data={"firstname": "Bob"})
    in_flight, release = threading.Event(), threading.Event()

    def hold_until_released(request):
        in_flight.set()
        release.wait(30)
        return 200

    receiver.respond = hold_until_released
    with database_for_subprocess(tmp_path) as database_url:
        # One request in flight at a time, so that the second customer is claimed but not yet sent.
        worker = start_worker(database_url, receiver.url, "--concurrency", "1")
        try:
            assert in_flight.wait(30), "the worker never sent anything"
            worker.send_signal(signal.SIGTERM)
            time.sleep(0.5)  # let the worker take the signal while the request is still open
            release.set()
            out, err = worker.communicate(timeout=30)
        finally:
            release.set()
            if worker.poll() is None:
                worker.kill()
                worker.wait()

    assert worker.returncode == 0, err
    assert out.startswith("Stopped: 1 delivered"), out
    assert [body["firstname"] for body in receiver.bodies()] == ["Ada"]
    done = EventDelivery.objects.get(destination=EventDelivery.GATEWAY, event__customer_id=first.customer_id)
    waiting = EventDelivery.objects.get(destination=EventDelivery.GATEWAY, event__customer_id=second.customer_id)
    assert (done.status, done.attempts) == (EventDelivery.Status.SUCCEEDED, 1)
    assert (waiting.status, waiting.attempts) == (EventDelivery.Status.PENDING, 0)


@pytest.mark.django_db(transaction=True)
def test_sigterm_stops_an_idle_worker(receiver, tmp_path):
    with database_for_subprocess(tmp_path) as database_url:
        worker = start_worker(database_url, receiver.url)
        try:
            assert worker.stderr.readline().startswith("Delivering to the gateway")
            worker.send_signal(signal.SIGTERM)
            out, err = worker.communicate(timeout=30)
        finally:
            if worker.poll() is None:
                worker.kill()
                worker.wait()

    assert worker.returncode == 0, err
    assert out.startswith("Stopped: 0 delivered"), out


def test_once_drains_what_is_due_and_reports_it(receiver, merchant, settings, capsys):
    settings.GATEWAY_URL = receiver.url
    settings.GATEWAY_SIGNING_SECRET = "command-test-secret"
    for name in ("Ada", "Bob", "Cy"):
        customer_create(merchant=merchant, data={"firstname": name})

    call_command("deliver_events", "--once")

    assert len(receiver.requests) == 3
    assert capsys.readouterr().out.startswith("Done: 3 delivered, 0 to retry later, 0 failed, 0 skipped")


def test_once_says_when_gateway_forwarding_is_off(db, settings, capsys):
    settings.GATEWAY_URL = ""

    call_command("deliver_events", "--once")

    assert "GATEWAY_URL is not set" in capsys.readouterr().err


def test_a_gateway_url_without_a_signing_secret_is_refused(db, settings):
    settings.GATEWAY_URL = "https://gateway.example.com/customers"
    settings.GATEWAY_SIGNING_SECRET = ""

    with pytest.raises(CommandError, match="GATEWAY_SIGNING_SECRET"):
        call_command("deliver_events", "--once")
