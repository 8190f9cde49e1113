"""A server killed with SIGKILL in the middle of a load of creates loses nothing it acknowledged.

The real production server (gunicorn with gunicorn.conf.py and
config.django.production) runs as its own process group on PostgreSQL. Client
threads create customers; the whole process group is killed with SIGKILL while
requests are in flight, then the server is started again. Every create that was
answered 201 must be there whole (customer, every custom field, its event, its
audit entry); a create whose answer was lost with the server is either all
there or not there at all; nothing half-written exists anywhere.
"""

import itertools
import os
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import requests
from django.db import connection

from audit.models import AuditEntry
from customers.models import Customer, CustomField
from events.models import CustomerEvent, EventDelivery
from merchants.services import oauth_client_create

pytestmark = [pytest.mark.slow, pytest.mark.postgres_only, pytest.mark.django_db(transaction=True)]

PROJECT = Path(__file__).resolve().parent.parent
PORTS = range(8640, 8700)  # this suite's share of 127.0.0.1 ports
FIELDS_PER_CUSTOMER = 3
LOAD_THREADS = 8


def free_port() -> int:
    for port in PORTS:
        with socket.socket() as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError(f"no free port in {PORTS}")


class Server:
    """gunicorn as a separate process group on the test database."""

    def __init__(self, port: int, log_path: Path, redis_url: str):
        self.port, self.log_path, self.process, self.redis_url = port, log_path, None, redis_url
        self.url = f"http://127.0.0.1:{port}"

    def start(self) -> None:
        database = connection.settings_dict
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "config.django.production",
            "DATABASE_URL": f"postgres://{database['USER']}@{database['HOST'] or '127.0.0.1'}:"
            f"{database['PORT'] or 5432}/{database['NAME']}",
            "SECRET_KEY": secrets.token_urlsafe(64),
            "ALLOWED_HOSTS": "127.0.0.1",
            "SECURE_SSL_REDIRECT": "0",  # plain HTTP on loopback; TLS ends at the load balancer
            "GUNICORN_BIND": f"127.0.0.1:{self.port}",
            "WEB_CONCURRENCY": "2",
            "GUNICORN_THREADS": "4",
            "API_RATE_LIMIT": "0",
            "REDIS_URL": self.redis_url,
        }
        if database.get("PASSWORD"):
            env["PGPASSWORD"] = database["PASSWORD"]
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "config.wsgi"],
            cwd=PROJECT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: SIGKILL reaches master and workers at once
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            assert self.process.poll() is None, self.log_path.read_text()[-3000:]
            try:
                if requests.get(f"{self.url}/healthz", timeout=5).status_code == 200:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.2)
        raise AssertionError("server did not become healthy:\n" + self.log_path.read_text()[-3000:])

    def kill(self) -> None:
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=30)
        # The workers die with the group; wait until none answers on the port any more.
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                requests.get(f"{self.url}/healthz", timeout=2)
            except requests.ConnectionError:
                return
            except requests.Timeout:
                pass
            time.sleep(0.2)


@pytest.fixture
def server(tmp_path, redis_url):
    server = Server(free_port(), tmp_path / "gunicorn.log", redis_url)
    yield server
    server.kill()


def payload(tag: str) -> dict:
    return {
        "firstname": "Fault",
        "lastname": tag,
        "email": f"{tag}@fault.example",
        "options": {"custom_fields": [{"name": f"f{i}", "value": f"{tag}-{i}"} for i in range(FIELDS_PER_CUSTOMER)]},
    }


def assert_whole(customer: Customer, tag: str) -> None:
    """The customer holds everything its create wrote, in the same transaction."""
    assert (customer.email, customer.lastname) == (f"{tag}@fault.example", tag)
    values = list(CustomField.objects.filter(customer=customer).order_by("position").values_list("value", flat=True))
    assert values == [f"{tag}-{i}" for i in range(FIELDS_PER_CUSTOMER)]
    events = CustomerEvent.objects.filter(customer_id=customer.pk)
    assert [event.type for event in events] == ["customer.created"]
    assert events[0].payload["email"] == customer.email
    assert EventDelivery.objects.filter(event=events[0]).exists()
    assert AuditEntry.objects.filter(customer_id=customer.pk, action="created").count() == 1


def test_a_sigkilled_server_loses_no_acknowledged_create_and_leaves_nothing_half_written(merchant, server):
    issued = oauth_client_create(merchant=merchant)
    server.start()
    token = requests.post(
        f"{server.url}/o/token/",
        data={"grant_type": "client_credentials"},
        auth=(issued.client.client_id, issued.client_secret),
        timeout=10,
    ).json()["access_token"]
    headers = {"Authorization": f"Bearer {token}"}

    acknowledged: dict[str, str] = {}  # tag -> customer_id, answered 201
    unknown: list[str] = []  # sent, but the answer was lost with the server
    refused: list[tuple[str, int]] = []
    lock, counter = threading.Lock(), itertools.count()

    def load() -> None:
        with requests.Session() as session:
            while True:
                tag = f"c{next(counter)}"
                try:
                    response = session.post(
                        f"{server.url}/api/v1/customers", json=payload(tag), headers=headers, timeout=15
                    )
                except requests.RequestException:
                    with lock:
                        unknown.append(tag)
                    return  # the server is gone: this thread's load ends
                with lock:
                    if response.status_code == 201:
                        acknowledged[tag] = response.json()["customer_id"]
                    else:
                        refused.append((tag, response.status_code))

    threads = [threading.Thread(target=load) for _ in range(LOAD_THREADS)]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + 60
    while len(acknowledged) < 150 and time.monotonic() < deadline:
        time.sleep(0.05)
    server.kill()  # SIGKILL, mid-load
    for thread in threads:
        thread.join(timeout=60)

    assert not refused, refused
    assert len(acknowledged) >= 150, "the load never got going"
    assert unknown, "no request was in flight when the server died; the test proved nothing"

    server.start()
    stored_unknown = Customer.objects.filter(merchant=merchant, lastname__in=unknown).count()
    print(f"fault test: {len(acknowledged)} answered 201, {len(unknown)} lost in flight ({stored_unknown} committed)")
    for tag, customer_id in acknowledged.items():
        assert_whole(Customer.objects.get(pk=customer_id), tag)
    for tag in unknown:
        lost_or_stored = list(Customer.objects.filter(merchant=merchant, lastname=tag))
        assert len(lost_or_stored) <= 1
        if lost_or_stored:
            assert_whole(lost_or_stored[0], tag)
    # Nothing half-written anywhere: every customer whole, no event or field without its customer.
    for customer in Customer.objects.filter(merchant=merchant):
        assert_whole(customer, customer.lastname)
    customer_ids = set(Customer.objects.values_list("pk", flat=True))
    assert set(CustomerEvent.objects.values_list("customer_id", flat=True)) <= customer_ids
    assert set(AuditEntry.objects.values_list("customer_id", flat=True)) <= customer_ids
    assert not CustomField.objects.exclude(customer_id__in=customer_ids).exists()

    # And the restarted server works.
    again = requests.post(f"{server.url}/api/v1/customers", json=payload("after"), headers=headers, timeout=15)
    assert again.status_code == 201
    assert_whole(Customer.objects.get(pk=again.json()["customer_id"]), "after")
