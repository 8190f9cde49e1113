"""Persistent PostgreSQL connections are health-checked before reuse, whatever their file descriptor.

Production keeps connections (CONN_MAX_AGE) and checks each before a request reuses it
(CONN_HEALTH_CHECKS), with Django's own backend and check. The custom backend this
replaced polled the socket with select.select, which raises ValueError for a file
descriptor above 1023: a busy process holding many sockets could not serve at all.
"""

import os
import resource
import time

import psycopg
import pytest
from django.db import connection

pytestmark = [pytest.mark.postgres_only, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def checked_connection(monkeypatch):
    """The default connection, persistent and health-checked as in production."""
    monkeypatch.setitem(connection.settings_dict, "CONN_HEALTH_CHECKS", True)
    monkeypatch.setitem(connection.settings_dict, "CONN_MAX_AGE", 600)
    connection.close()
    yield connection
    connection.close()


@pytest.fixture
def descriptors_up_to_1100():
    """Hold open files until the next socket gets a file descriptor above 1023."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < 1200:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(2048, hard), hard))
    held = []
    try:
        while (fd := os.open(os.devnull, os.O_RDONLY)) < 1100:
            held.append(fd)
        held.append(fd)
        yield
    finally:
        for fd in held:
            os.close(fd)
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


def backend_pid() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return cursor.fetchone()[0]


def next_request_starts() -> None:
    """What Django does when a request starts (request_started -> close_old_connections)."""
    connection.close_if_unusable_or_obsolete()


def test_a_connection_on_a_descriptor_above_1023_is_checked_and_reused(checked_connection, descriptors_up_to_1100):
    pid = backend_pid()
    assert connection.connection.fileno() > 1023

    next_request_starts()

    assert backend_pid() == pid


def test_a_connection_the_server_ended_is_replaced_before_the_request_uses_it(checked_connection):
    pid = backend_pid()
    params = connection.get_connection_params()
    with psycopg.connect(**{**params, "autocommit": True}) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", [pid])
    time.sleep(0.2)  # the server's goodbye reaches the socket

    next_request_starts()

    assert backend_pid() != pid  # the first query of the request ran, on a new connection
