"""The API's error envelope: request ids, the 500 problem document, and creates that fail half-way."""

import io
import json
import logging
import re

import pytest
from django.utils import timezone

import customers.services
from audit.models import AuditEntry
from core.bulk_insert import Insert
from customers.models import Customer, CustomField
from events.models import CustomerEvent, EventDelivery
from tests.api_helpers import assert_problem, create

URL = "/api/v1/customers"
BODY = {
    "firstname": "Ada",
    "email": "ada@example.com",
    "options": {
        "custom_fields": [{"name": "tier", "value": "gold"}, {"name": "visits", "type": "integer", "value": 3}]
    },
}


def post(client, body=BODY, **extra):
    return client.post(URL, json.dumps(body), content_type="application/json", **extra)


def assert_nothing_stored():
    assert Customer.objects.count() == 0
    assert CustomField.objects.count() == 0
    assert CustomerEvent.objects.count() == 0
    assert EventDelivery.objects.count() == 0
    assert AuditEntry.objects.count() == 0


class Boom(RuntimeError):
    pass


@pytest.fixture
def failing_after(monkeypatch):
    """failing_after("name"): make customers.services.<name> do its real work, then raise Boom."""

    def install(name: str):
        real = getattr(customers.services, name)

        def run_then_fail(*args, **kwargs):
            real(*args, **kwargs)
            raise Boom(f"injected failure after {name}")

        monkeypatch.setattr(customers.services, name, run_then_fail)

    return install


# --- request ids ------------------------------------------------------------------------------


@pytest.mark.parametrize("incoming", ["abc-123", "req_2024.05:31", "A" * 128, "0f8fad5b-d9cb-469f-a165-70867728950e"])
def test_a_sane_incoming_request_id_is_echoed(api_client, incoming):
    response = post(api_client, HTTP_X_REQUEST_ID=incoming)

    assert response.status_code == 201
    assert response["X-Request-ID"] == incoming


@pytest.mark.parametrize(
    "incoming", ["", "has space", "A" * 129, "semi;colon", "new\nline", "trailing\n", "<script>", "caf\u00e9"]
)
def test_an_insane_incoming_request_id_is_replaced_by_a_generated_one(api_client, incoming):
    response = post(api_client, HTTP_X_REQUEST_ID=incoming)

    assert response.status_code == 201
    assert re.fullmatch(r"[0-9a-f]{32}", response["X-Request-ID"])


def test_each_request_without_an_id_gets_a_new_one(api_client):
    first, second = post(api_client), post(api_client)

    assert re.fullmatch(r"[0-9a-f]{32}", first["X-Request-ID"])
    assert first["X-Request-ID"] != second["X-Request-ID"]


def test_problem_documents_carry_the_request_id(api_client, anonymous_api_client):
    responses = {
        400: post(api_client, {"first_name": "Ada"}, HTTP_X_REQUEST_ID="trace-400"),
        401: post(anonymous_api_client, HTTP_X_REQUEST_ID="trace-401"),
        404: api_client.get("/api/v1/nothing-here", HTTP_X_REQUEST_ID="trace-404"),
        405: api_client.delete(URL, HTTP_X_REQUEST_ID="trace-405"),
        415: api_client.post(URL, "x", content_type="text/plain", HTTP_X_REQUEST_ID="trace-415"),
    }

    for status, response in responses.items():
        problem = assert_problem(response, status)
        assert problem["request_id"] == f"trace-{status}"
        assert response["X-Request-ID"] == f"trace-{status}"


def test_the_token_endpoint_answers_with_a_request_id_too(issued_client):
    from rest_framework.test import APIClient

    response = APIClient().post("/o/token/", {"grant_type": "client_credentials"}, HTTP_X_REQUEST_ID="tok-1")

    assert response.status_code == 401
    assert response["X-Request-ID"] == "tok-1"


def test_an_unknown_api_path_is_a_404_problem(api_client):
    problem = assert_problem(api_client.get("/api/v1/customer"), 404, "not-found")

    assert problem["instance"] == "/api/v1/customer"


@pytest.mark.parametrize("debug", [False, True])
def test_an_unknown_api_path_is_a_404_problem_even_with_debug_on(api_client, settings, debug):
    settings.DEBUG = debug

    response = api_client.get("/api/v1/nothing-here", HTTP_ACCEPT="text/html")

    assert_problem(response, 404, "not-found")
    assert b"<" not in response.content


def test_a_wrong_method_on_the_token_endpoint_is_a_405_problem_keeping_allow(db):
    from rest_framework.test import APIClient

    response = APIClient().get("/o/token/")

    assert_problem(response, 405, "method-not-allowed")
    assert "POST" in response["Allow"]


# --- the 500 envelope -------------------------------------------------------------------------


@pytest.mark.parametrize("debug", [False, True])
def test_an_unexpected_error_is_a_500_problem_without_traceback_or_html(api_client, failing_after, settings, debug):
    settings.DEBUG = debug
    failing_after("event_rows")

    response = post(api_client, HTTP_X_REQUEST_ID="trace-500")

    problem = assert_problem(response, 500, "internal-error")
    assert problem["request_id"] == "trace-500"
    assert "request id" in problem["detail"]
    text = response.content.decode()
    assert "Traceback" not in text
    assert "Boom" not in text
    assert "injected failure" not in text
    assert "<" not in text
    assert set(problem) == {"type", "title", "status", "detail", "instance", "request_id"}


@pytest.fixture
def console_log():
    """What the configured console log handler writes (its own filter and format), as a StringIO."""
    handler = next(h for h in logging.getLogger().handlers if h.get_name() == "console")
    stream = io.StringIO()
    previous = handler.setStream(stream)
    yield stream
    handler.setStream(previous)


@pytest.mark.parametrize("accept", ["text/html", "*/*", "text/plain"])
def test_an_error_outside_the_view_is_a_500_problem_even_with_debug_on(db, settings, monkeypatch, accept):
    """Django's DEBUG page would show the traceback as HTML or text; the API never does."""
    from django.middleware.csrf import CsrfViewMiddleware
    from rest_framework.test import APIClient

    settings.DEBUG = True

    def broken_process_view(self, request, callback, callback_args, callback_kwargs):
        raise Boom("injected failure in a middleware, before the view")

    monkeypatch.setattr(CsrfViewMiddleware, "process_view", broken_process_view)
    client = APIClient(raise_request_exception=False)

    response = client.post(URL, json.dumps(BODY), content_type="application/json", HTTP_ACCEPT=accept)

    assert_problem(response, 500, "internal-error")
    assert b"Traceback" not in response.content
    assert b"injected failure" not in response.content


def test_the_500_traceback_is_logged_with_the_request_id(api_client, failing_after, console_log):
    failing_after("event_rows")

    post(api_client, HTTP_X_REQUEST_ID="trace-log-1")

    log = console_log.getvalue()
    first_line = next(line for line in log.splitlines() if "Unhandled error" in line)
    assert "[trace-log-1]" in first_line
    assert "POST /api/v1/customers" in first_line
    assert "Traceback (most recent call last)" in log
    assert "Boom: injected failure after event_rows" in log


# --- atomicity --------------------------------------------------------------------------------


@pytest.fixture
def failing_write(monkeypatch):
    """failing_write(): the create's write gets one more insert, last, that the database refuses (a NOT NULL column)."""

    def install():
        real = customers.services.insert_all

        def with_a_bad_row(inserts):
            bad = Insert(
                AuditEntry,
                ("merchant", "customer_id", "action", "door", "actor", "changed_fields", "created_at"),
                [(inserts[0].rows[0][1], inserts[0].rows[0][0], None, "api", "x", [], timezone.now())],
            )
            return real([*inserts, bad])

        monkeypatch.setattr(customers.services, "insert_all", with_a_bad_row)
        return real

    return install


@pytest.mark.django_db(transaction=True)
def test_a_database_error_in_the_last_row_of_a_create_leaves_no_rows_behind(api_client, failing_write):
    failing_write()

    response = post(api_client)

    assert_problem(response, 500, "internal-error")
    assert_nothing_stored()


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("step", ["created_fields", "event_rows"])
def test_a_failure_before_the_write_leaves_no_rows_behind(api_client, failing_after, step):
    failing_after(step)

    response = post(api_client)

    assert_problem(response, 500, "internal-error")
    assert_nothing_stored()


@pytest.mark.django_db(transaction=True)
def test_the_next_create_after_a_failed_one_works_normally(api_client, failing_write, monkeypatch):
    real = failing_write()
    assert post(api_client).status_code == 500
    monkeypatch.setattr(customers.services, "insert_all", real)

    response = post(api_client)

    assert response.status_code == 201
    assert Customer.objects.count() == 1
    assert CustomField.objects.count() == 2
    assert CustomerEvent.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_a_validation_failure_leaves_no_rows_behind(api_client):
    body = {
        **BODY,
        "options": {"custom_fields": [{"name": "ok", "value": "x"}, {"name": "n", "type": "date", "value": "x"}]},
    }

    response = post(api_client, body)

    assert response.status_code == 400
    assert_nothing_stored()


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", "/api/v1/customers"),
        ("POST", "/api/v1/customers/bulk"),
        ("PUT", "/api/v1/customers/{customer_id}"),
        ("PATCH", "/api/v1/customers/{customer_id}"),
        ("POST", "/api/v1/webhook-endpoints"),
        ("PUT", "/api/v1/webhook-endpoints/{endpoint_id}"),
        ("PATCH", "/api/v1/webhook-endpoints/{endpoint_id}"),
    ],
)
def test_every_write_without_a_body_is_a_400_that_changes_nothing(api_client, merchant, method, path):
    """A PATCH without a body is malformed (it is no `{}`); a POST or PUT is told what it needs."""
    customer_id = create(api_client)["customer_id"]
    endpoint = api_client.post(
        "/api/v1/webhook-endpoints", '{"url": "https://hooks.example.com/vault"}', content_type="application/json"
    ).json()
    before = (api_client.get(f"{URL}/{customer_id}").content, api_client.get("/api/v1/webhook-endpoints").content)

    response = api_client.generic(method, path.format(customer_id=customer_id, endpoint_id=endpoint["id"]), "")

    problem = assert_problem(response, 400)
    if method == "PATCH":
        assert problem["type"] == "/problems/malformed-json"
        assert problem["detail"] == "The request body is empty: send a JSON object."
    after = (api_client.get(f"{URL}/{customer_id}").content, api_client.get("/api/v1/webhook-endpoints").content)
    assert after == before


@pytest.mark.parametrize("path", ["/api/v1/customers", "/api/v1/webhook-endpoints"])
def test_a_patch_without_a_body_where_patch_is_not_allowed_stays_a_405(api_client, path):
    assert_problem(api_client.generic("PATCH", path, ""), 405)
