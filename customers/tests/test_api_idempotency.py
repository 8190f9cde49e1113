"""Idempotency-Key on POST, PATCH, PUT, DELETE and bulk: replays, conflicts, expiry, and real concurrency."""

import datetime
import threading
import time
import uuid

import pytest
from django.core.management import call_command
from django.db import connection, connections, transaction
from django.utils import timezone
from rest_framework.test import APIClient

from api.idempotency import idempotency_claim, request_fingerprint
from api.models import IdempotencyRecord
from customers.models import Customer
from tests.api_helpers import URL, assert_problem, create, detail_url, error_fields, send
from tests.concurrency import in_threads


def post(client, body, key=None, path=URL, **headers):
    if key is not None:
        headers["HTTP_IDEMPOTENCY_KEY"] = key
    return send(client, "post", path, body, **headers)


def assert_replay_of(replay, first) -> None:
    assert replay["Idempotent-Replayed"] == "true"
    assert replay.status_code == first.status_code
    assert replay.content == first.content  # byte for byte
    assert replay.get("Content-Type") == first.get("Content-Type")
    assert "Idempotent-Replayed" not in first


# --- replay ------------------------------------------------------------------------------------------


def test_repeating_a_create_with_the_same_key_returns_the_first_response_and_creates_nothing(api_client, merchant):
    body = {"firstname": "Ada", "options": {"custom_fields": [{"name": "tier", "value": 1}]}}
    first = post(api_client, body, key="order-1001")

    replay = post(api_client, body, key="order-1001")

    assert first.status_code == 201
    assert_replay_of(replay, first)
    assert replay.json() == first.json()
    assert replay["Location"] == first["Location"]
    assert replay["ETag"] == first["ETag"]
    assert replay["Content-Type"] == "application/json"
    assert Customer.objects.filter(merchant=merchant).count() == 1


def test_a_replay_carries_its_own_request_id_and_rate_limit_headers(api_client):
    first = post(api_client, {"firstname": "Ada"}, key="k", HTTP_X_REQUEST_ID="first-request")

    replay = post(api_client, {"firstname": "Ada"}, key="k", HTTP_X_REQUEST_ID="second-request")

    assert replay["X-Request-ID"] == "second-request"
    assert int(replay["RateLimit-Remaining"]) == int(first["RateLimit-Remaining"]) - 1


def test_the_body_is_compared_as_json_not_as_bytes(api_client, merchant):
    first = post(api_client, '{"firstname": "Ada", "lastname": "Lovelace"}', key="k")

    replay = post(api_client, '{ "lastname":"Lovelace",\n"firstname":"Ada" }', key="k")

    assert_replay_of(replay, first)
    assert Customer.objects.filter(merchant=merchant).count() == 1


def test_requests_without_a_key_are_never_deduplicated(api_client, merchant):
    post(api_client, {"firstname": "Ada"})
    post(api_client, {"firstname": "Ada"})

    assert Customer.objects.filter(merchant=merchant).count() == 2


def test_a_patch_replay_returns_the_first_result_even_after_later_changes(api_client):
    customer_id = create(api_client)["customer_id"]
    first = send(api_client, "patch", detail_url(customer_id), {"lastname": "Lovelace"}, HTTP_IDEMPOTENCY_KEY="p1")
    send(api_client, "patch", detail_url(customer_id), {"lastname": "Byron"})

    replay = send(api_client, "patch", detail_url(customer_id), {"lastname": "Lovelace"}, HTTP_IDEMPOTENCY_KEY="p1")

    assert_replay_of(replay, first)
    assert replay.json()["data"]["lastname"] == "Lovelace"
    assert api_client.get(detail_url(customer_id)).json()["data"]["lastname"] == "Byron"
    assert Customer.objects.get(pk=customer_id).version == 3


def test_a_put_replay_does_not_replace_again(api_client):
    customer_id = create(api_client)["customer_id"]
    first = send(api_client, "put", detail_url(customer_id), {"company": "Acme"}, HTTP_IDEMPOTENCY_KEY="r1")

    replay = send(api_client, "put", detail_url(customer_id), {"company": "Acme"}, HTTP_IDEMPOTENCY_KEY="r1")

    assert_replay_of(replay, first)
    assert Customer.objects.get(pk=customer_id).version == 2


def test_a_delete_replay_answers_204_again_instead_of_404(api_client):
    customer_id = create(api_client)["customer_id"]
    first = api_client.delete(detail_url(customer_id), HTTP_IDEMPOTENCY_KEY="d1")

    replay = api_client.delete(detail_url(customer_id), HTTP_IDEMPOTENCY_KEY="d1")

    assert first.status_code == 204
    assert replay.status_code == 204
    assert replay["Idempotent-Replayed"] == "true"
    assert replay.content == b""
    assert_problem(api_client.delete(detail_url(customer_id)), 404)


def test_a_bulk_replay_creates_no_second_set(api_client, merchant):
    body = {"customers": [{"firstname": "Ada"}, {"email": "bad"}, {"firstname": "Grace"}]}
    first = post(api_client, body, key="batch-7", path=URL + "/bulk")

    replay = post(api_client, body, key="batch-7", path=URL + "/bulk")

    assert first.status_code == 207
    assert_replay_of(replay, first)
    assert Customer.objects.filter(merchant=merchant).count() == 2


# --- failures -----------------------------------------------------------------------------------------


def test_a_validation_error_is_stored_and_replayed_like_stripe_does(api_client, merchant):
    first = post(api_client, {"email": "not-an-email"}, key="bad-1")

    replay = post(api_client, {"email": "not-an-email"}, key="bad-1")

    assert_problem(first, 400, "validation-error")
    assert_replay_of(replay, first)
    assert replay["Content-Type"] == "application/problem+json"
    assert not Customer.objects.filter(merchant=merchant).exists()


def test_a_404_is_stored_and_replayed(api_client):
    missing = detail_url(uuid.uuid4())
    first = send(api_client, "patch", missing, {"firstname": "Eve"}, HTTP_IDEMPOTENCY_KEY="nf")

    replay = send(api_client, "patch", missing, {"firstname": "Eve"}, HTTP_IDEMPOTENCY_KEY="nf")

    assert_problem(first, 404)
    assert_replay_of(replay, first)


def test_a_412_is_stored_so_a_new_attempt_needs_a_new_key(api_client):
    customer_id = create(api_client)["customer_id"]
    stale = api_client.get(detail_url(customer_id))["ETag"]
    send(api_client, "patch", detail_url(customer_id), {"firstname": "Augusta"})
    first = send(
        api_client,
        "patch",
        detail_url(customer_id),
        {"firstname": "Eve"},
        HTTP_IF_MATCH=stale,
        HTTP_IDEMPOTENCY_KEY="c1",
    )

    replay = send(
        api_client,
        "patch",
        detail_url(customer_id),
        {"firstname": "Eve"},
        HTTP_IF_MATCH=stale,
        HTTP_IDEMPOTENCY_KEY="c1",
    )
    fresh = api_client.get(detail_url(customer_id))["ETag"]
    other_precondition = send(
        api_client,
        "patch",
        detail_url(customer_id),
        {"firstname": "Eve"},
        HTTP_IF_MATCH=fresh,
        HTTP_IDEMPOTENCY_KEY="c1",
    )

    assert_problem(first, 412)
    assert_replay_of(replay, first)
    assert_problem(other_precondition, 422, "idempotency-key-reused")


def test_a_server_error_is_not_stored_so_a_retry_with_the_same_key_runs_again(api_client, merchant, monkeypatch):
    from customers.api import views

    real_create = views.customer_create

    def failing_create(**kwargs):
        raise RuntimeError("database went away")

    monkeypatch.setattr(views, "customer_create", failing_create)
    failed = post(api_client, {"firstname": "Ada"}, key="retry-me")
    monkeypatch.setattr(views, "customer_create", real_create)

    retried = post(api_client, {"firstname": "Ada"}, key="retry-me")

    assert_problem(failed, 500, "internal-error")
    assert retried.status_code == 201
    assert "Idempotent-Replayed" not in retried
    assert Customer.objects.filter(merchant=merchant).count() == 1


def test_a_request_refused_before_it_ran_leaves_the_key_unused(api_client_for, merchant):
    read_only = api_client_for(merchant, "customers:read")
    writer = api_client_for(merchant, "customers:write")

    refused = post(read_only, {"firstname": "Ada"}, key="k")
    unauthenticated = post(APIClient(), {"firstname": "Ada"}, key="k")
    allowed = post(writer, {"firstname": "Ada"}, key="k")

    assert_problem(refused, 403)
    assert_problem(unauthenticated, 401)
    assert allowed.status_code == 201
    assert "Idempotent-Replayed" not in allowed


def test_malformed_json_does_not_use_up_the_key(api_client):
    assert_problem(post(api_client, '{"firstname": ', key="k"), 400, "malformed-json")

    assert post(api_client, {"firstname": "Ada"}, key="k").status_code == 201


# --- conflicts ----------------------------------------------------------------------------------------


def test_the_same_key_with_a_different_body_is_a_422_and_creates_nothing(api_client, merchant):
    post(api_client, {"firstname": "Ada"}, key="k")

    response = post(api_client, {"firstname": "Eve"}, key="k")

    assert_problem(response, 422, "idempotency-key-reused")
    assert list(Customer.objects.filter(merchant=merchant).values_list("firstname", flat=True)) == ["Ada"]


def test_the_same_key_on_another_endpoint_is_a_422(api_client):
    customer_id = post(api_client, {"firstname": "Ada"}, key="k").json()["customer_id"]

    response = send(api_client, "patch", detail_url(customer_id), {"firstname": "Ada"}, HTTP_IDEMPOTENCY_KEY="k")

    assert_problem(response, 422, "idempotency-key-reused")


def test_a_key_still_in_progress_is_a_409(api_client, merchant):
    body = {"firstname": "Ada"}
    fingerprint = request_fingerprint(method="POST", path=URL, body=body)
    idempotency_claim(merchant=merchant, key="busy", fingerprint=fingerprint)  # another request holds it

    response = post(api_client, body, key="busy")
    different = post(api_client, {"firstname": "Eve"}, key="busy")

    assert_problem(response, 409, "idempotency-key-in-use")
    assert_problem(different, 422, "idempotency-key-reused")
    assert not Customer.objects.filter(merchant=merchant).exists()


def test_a_key_left_in_progress_by_a_dead_process_is_taken_over_after_the_lock_timeout(api_client, merchant, settings):
    body = {"firstname": "Ada"}
    claim = idempotency_claim(
        merchant=merchant, key="orphan", fingerprint=request_fingerprint(method="POST", path=URL, body=body)
    )
    IdempotencyRecord.objects.filter(pk=claim.record.pk).update(
        created_at=timezone.now() - datetime.timedelta(seconds=settings.IDEMPOTENCY_LOCK_TIMEOUT_SECONDS + 1)
    )

    response = post(api_client, body, key="orphan")

    assert response.status_code == 201
    assert Customer.objects.filter(merchant=merchant).count() == 1


def test_keys_belong_to_one_merchant(api_client, other_api_client, merchant, other_merchant):
    mine = post(api_client, {"firstname": "Ada"}, key="shared-key")
    theirs = post(other_api_client, {"firstname": "Eve"}, key="shared-key")

    assert mine.status_code == theirs.status_code == 201
    assert "Idempotent-Replayed" not in theirs
    assert Customer.objects.get(merchant=other_merchant).firstname == "Eve"


def test_another_client_of_the_same_merchant_gets_the_replay(api_client_for, merchant):
    first = post(api_client_for(merchant), {"firstname": "Ada"}, key="k")

    replay = post(api_client_for(merchant), {"firstname": "Ada"}, key="k")

    assert_replay_of(replay, first)


# --- keys and their lifetime ---------------------------------------------------------------------------


@pytest.mark.parametrize("key", ["", "x" * 256, "tab\tinside", "clé"])
def test_an_invalid_key_is_a_400_naming_the_header(api_client, key):
    response = post(api_client, {"firstname": "Ada"}, key=key)

    assert error_fields(response) == {"Idempotency-Key": ["invalid_idempotency_key"]}
    assert not Customer.objects.exists()


def test_a_key_of_255_characters_is_accepted(api_client):
    assert post(api_client, {"firstname": "Ada"}, key="k" * 255).status_code == 201


def test_a_key_is_remembered_for_at_least_24_hours(api_client, merchant):
    sent_at = timezone.now()
    post(api_client, {"firstname": "Ada"}, key="k")
    record = IdempotencyRecord.objects.get(merchant=merchant, key="k")

    assert record.expires_at >= sent_at + datetime.timedelta(hours=24)
    IdempotencyRecord.objects.filter(pk=record.pk).update(created_at=timezone.now() - datetime.timedelta(hours=23))
    assert post(api_client, {"firstname": "Ada"}, key="k")["Idempotent-Replayed"] == "true"


def test_an_expired_key_can_be_used_again(api_client, merchant):
    post(api_client, {"firstname": "Ada"}, key="k")
    IdempotencyRecord.objects.filter(key="k").update(expires_at=timezone.now() - datetime.timedelta(seconds=1))

    response = post(api_client, {"firstname": "Eve"}, key="k")

    assert response.status_code == 201
    assert Customer.objects.filter(merchant=merchant).count() == 2


def test_the_purge_command_deletes_only_expired_records(api_client, merchant):
    post(api_client, {"firstname": "Ada"}, key="old")
    post(api_client, {"firstname": "Eve"}, key="new")
    IdempotencyRecord.objects.filter(key="old").update(expires_at=timezone.now() - datetime.timedelta(seconds=1))

    call_command("purge_idempotency_keys", stdout=open("/dev/null", "w"))  # noqa: SIM115

    assert list(IdempotencyRecord.objects.values_list("key", flat=True)) == ["new"]


def test_replaying_a_create_after_the_customer_was_deleted_is_a_410_without_its_data(api_client, merchant):
    first = post(api_client, {"firstname": "Ada", "email": "ada@example.com"}, key="k")
    customer_id = first.json()["customer_id"]
    api_client.delete(detail_url(customer_id))

    replay = post(api_client, {"firstname": "Ada", "email": "ada@example.com"}, key="k")

    body = assert_problem(replay, 410, "customer-erased")
    assert body["customer_id"] == customer_id
    assert "ada@example.com" not in str(IdempotencyRecord.objects.get(key="k").response_body)
    assert not Customer.objects.filter(merchant=merchant).exists()


# --- concurrency on PostgreSQL ----------------------------------------------------------------------------


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_simultaneous_requests_with_one_key_create_one_customer(token_for, merchant):
    token = token_for(merchant)
    body = {"firstname": "Ada", "options": {"custom_fields": [{"name": "tier", "value": 1}]}}

    def request(_index):
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
        return post(client, body, key="race")

    responses = in_threads(8, request)

    assert Customer.objects.filter(merchant=merchant).count() == 1
    statuses = sorted(r.status_code for r in responses)
    assert set(statuses) <= {201, 409}, statuses
    originals = [r for r in responses if r.status_code == 201 and "Idempotent-Replayed" not in r]
    assert len(originals) == 1
    customer_id = originals[0].json()["customer_id"]
    assert all(r.json()["customer_id"] == customer_id for r in responses if r.status_code == 201)


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_a_retry_while_the_first_request_is_still_running_is_a_409_then_a_replay(token_for, merchant):
    token = token_for(merchant)
    body = {"firstname": "Ada"}
    results: dict = {}

    def request(name):
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
        try:
            results[name] = post(client, body, key="slow")
        finally:
            connections.close_all()

    first = threading.Thread(target=request, args=("first",))
    with transaction.atomic():
        # Hold inserts into the customer table: the first request claims its key, then waits here.
        with connection.cursor() as cursor:
            cursor.execute("LOCK TABLE customers_customer IN SHARE ROW EXCLUSIVE MODE")
        first.start()
        deadline = time.monotonic() + 20
        while not IdempotencyRecord.objects.filter(key="slow").exists():
            assert time.monotonic() < deadline, "the first request never claimed its key"
            time.sleep(0.02)
        retry = threading.Thread(target=request, args=("retry",))
        retry.start()
        retry.join(timeout=30)
        assert first.is_alive()
    first.join(timeout=30)

    assert_problem(results["retry"], 409, "idempotency-key-in-use")
    assert results["first"].status_code == 201
    later = APIClient()
    later.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    assert_replay_of(post(later, body, key="slow"), results["first"])
    assert Customer.objects.filter(merchant=merchant).count() == 1


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_simultaneous_bulk_requests_with_one_key_create_one_set(token_for, merchant):
    token = token_for(merchant)
    body = {"customers": [{"firstname": f"C{i}"} for i in range(10)]}

    def request(_index):
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
        return post(client, body, key="bulk-race", path=URL + "/bulk")

    responses = in_threads(4, request)

    assert Customer.objects.filter(merchant=merchant).count() == 10
    assert {r.status_code for r in responses} <= {207, 409}
