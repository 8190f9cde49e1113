"""config/postgresql: the per-request connection health check asks the server only when the socket says something."""

import time

import psycopg
import pytest
from django.db import connection

from config.postgresql.base import DatabaseWrapper


@pytest.fixture
def checked_connection(postgres_only, monkeypatch):
    """The default connection, persistent and health-checked as in production, and a count of real checks."""
    monkeypatch.setitem(connection.settings_dict, "CONN_HEALTH_CHECKS", True)
    monkeypatch.setitem(connection.settings_dict, "CONN_MAX_AGE", 600)
    connection.close()
    connection.ensure_connection()  # health checks are switched on at connect time
    real_checks = []
    real = DatabaseWrapper.is_usable

    def counted(self):
        real_checks.append(self)
        return real(self)

    monkeypatch.setattr(DatabaseWrapper, "is_usable", counted)
    yield real_checks
    connection.close()


def backend_pid() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return cursor.fetchone()[0]


def next_request_starts() -> None:
    """What Django does when a request starts (request_started -> close_old_connections)."""
    connection.close_if_unusable_or_obsolete()


@pytest.mark.django_db(transaction=True)
def test_an_idle_connection_is_reused_without_a_round_trip(checked_connection):
    pid = backend_pid()

    next_request_starts()

    assert backend_pid() == pid
    assert checked_connection == []


@pytest.mark.django_db(transaction=True)
def test_a_connection_the_server_ended_is_replaced_before_the_request_uses_it(checked_connection):
    pid = backend_pid()
    params = connection.get_connection_params()
    with psycopg.connect(**{**params, "autocommit": True}) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", [pid])
    time.sleep(0.2)  # the server's goodbye reaches the socket

    next_request_starts()

    assert backend_pid() != pid  # the first query of the request ran, on a new connection
    assert len(checked_connection) == 1
