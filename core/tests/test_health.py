"""Load balancer probes: /healthz never touches the database, /readyz answers for it."""

import pytest
from django.db import connection


def test_healthz_answers_200_json_without_auth_or_database(client):
    # No `db` fixture: pytest-django fails any database access in this test.
    response = client.get("/healthz")

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert "no-cache" in response["Cache-Control"]


def test_readyz_answers_200_when_the_database_answers(client, db):
    response = client.get("/readyz")

    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok"}


def test_probes_refuse_writes(client, db):
    assert client.post("/healthz").status_code == 405
    assert client.post("/readyz").status_code == 405


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_readyz_is_a_503_problem_when_the_database_is_down(client):
    original = dict(connection.settings_dict)
    connection.close()
    # Nothing listens on port 1: a real refused connection, not a mock.
    connection.settings_dict.update(PORT="1", HOST="127.0.0.1")
    try:
        response = client.get("/readyz")
        healthz = client.get("/healthz")
    finally:
        connection.close()
        connection.settings_dict.clear()
        connection.settings_dict.update(original)

    assert response.status_code == 503
    assert response["Content-Type"] == "application/problem+json"
    body = response.json()
    assert (body["status"], body["type"], body["detail"]) == (
        503,
        "/problems/not-ready",
        "The database is not reachable.",
    )
    assert response["Retry-After"] == "5"
    # Liveness does not depend on the database: the process itself is fine.
    assert healthz.status_code == 200
