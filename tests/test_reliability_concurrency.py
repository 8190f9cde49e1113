"""Nothing lost under concurrency, on PostgreSQL with real threads and real connections.

Concurrent requests with one Idempotency-Key are tested in test_api_idempotency.py
(test_simultaneous_requests_with_one_key_create_one_customer and its bulk twin).
"""

import pytest
from rest_framework.test import APIClient

from audit.models import AuditEntry
from customers.models import Customer, CustomField
from events.models import CustomerEvent
from tests.concurrency import in_threads

pytestmark = [pytest.mark.slow, pytest.mark.postgres_only, pytest.mark.django_db(transaction=True)]

CUSTOMERS = "/api/v1/customers"


def client_with(token: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return client


def test_200_parallel_creates_are_all_stored_whole_with_distinct_ids(token_for, merchant):
    token = token_for(merchant)
    threads, per_thread = 20, 10

    def create_ten(thread: int) -> list:
        client = client_with(token)
        answers = []
        for n in range(per_thread):
            number = thread * per_thread + n
            body = {
                "email": f"c{number}@example.com",
                "options": {"custom_fields": [{"name": "n", "type": "integer", "value": number}]},
            }
            response = client.post(CUSTOMERS, body, format="json")
            answers.append((number, response.status_code, response.json().get("customer_id")))
        return answers

    answers = [answer for batch in in_threads(threads, create_ten) for answer in batch]

    assert [status for _, status, _ in answers] == [201] * 200
    ids = {customer_id for _, _, customer_id in answers}
    assert len(ids) == 200
    assert set(map(str, Customer.objects.filter(merchant=merchant).values_list("pk", flat=True))) == ids
    for number, _, customer_id in answers:
        customer = Customer.objects.get(pk=customer_id)
        assert customer.email == f"c{number}@example.com"
        assert list(CustomField.objects.filter(customer=customer).values_list("value", flat=True)) == [str(number)]
    assert CustomerEvent.objects.filter(merchant=merchant, type="customer.created").count() == 200
    assert AuditEntry.objects.filter(merchant=merchant, action="created").count() == 200


def test_concurrent_patches_with_if_match_never_lose_an_update(token_for, merchant):
    """Each writer reads, then patches with If-Match; a 412 makes it read again and retry.

    Every writer adds its own custom field, so a silently lost update would show
    as a missing field; the version must count exactly one step per success.
    """
    token = token_for(merchant)
    customer_id = client_with(token).post(CUSTOMERS, {"firstname": "Ada"}, format="json").json()["customer_id"]
    writers = 12

    def write(index: int) -> dict:
        client = client_with(token)
        conflicts = 0
        while True:
            etag = client.get(f"{CUSTOMERS}/{customer_id}")["ETag"]
            body = {"options": {"custom_fields": [{"name": f"w{index}", "value": str(index)}]}}
            response = client.patch(f"{CUSTOMERS}/{customer_id}", body, format="json", HTTP_IF_MATCH=etag)
            if response.status_code == 200:
                return {"conflicts": conflicts, "etag": response["ETag"]}
            assert response.status_code == 412, response.content
            assert response["Content-Type"] == "application/problem+json"
            conflicts += 1
            assert conflicts < 200, "a writer never got through"

    results = in_threads(writers, write)

    final = client_with(token).get(f"{CUSTOMERS}/{customer_id}").json()["data"]
    assert sorted(f["name"] for f in final["options"]["custom_fields"]) == sorted(f"w{i}" for i in range(writers))
    assert Customer.objects.get(pk=customer_id).version == 1 + writers
    assert len({r["etag"] for r in results}) == writers  # each success produced its own version
    assert sum(r["conflicts"] for r in results) > 0, "the writers never actually raced; the test proved nothing"
    assert AuditEntry.objects.filter(customer_id=customer_id, action="updated").count() == writers


def test_a_stale_if_match_is_refused_for_every_writer_but_one(token_for, merchant):
    """All writers hold the same ETag: exactly one PATCH wins, the rest get 412 and change nothing."""
    token = token_for(merchant)
    client = client_with(token)
    created = client.post(CUSTOMERS, {"firstname": "Ada"}, format="json")
    customer_id, etag = created.json()["customer_id"], created["ETag"]
    writers = 10

    def write(index: int) -> int:
        body = {"lastname": f"Writer {index}"}
        return client_with(token).patch(f"{CUSTOMERS}/{customer_id}", body, format="json", HTTP_IF_MATCH=etag)

    responses = in_threads(writers, write)

    statuses = sorted(r.status_code for r in responses)
    assert statuses == [200] + [412] * (writers - 1)
    winner = next(r for r in responses if r.status_code == 200).json()["data"]["lastname"]
    assert Customer.objects.get(pk=customer_id).lastname == winner
    assert Customer.objects.get(pk=customer_id).version == 2


def test_concurrent_merge_patches_without_if_match_apply_every_change(token_for, merchant):
    """Without If-Match, merge patches of different custom fields serialize on the row lock: none is lost."""
    token = token_for(merchant)
    customer_id = client_with(token).post(CUSTOMERS, {"firstname": "Ada"}, format="json").json()["customer_id"]
    writers = 12

    def write(index: int):
        body = {"options": {"custom_fields": [{"name": f"w{index}", "value": str(index)}]}}
        return client_with(token).patch(f"{CUSTOMERS}/{customer_id}", body, format="json").status_code

    assert in_threads(writers, write) == [200] * writers
    names = set(CustomField.objects.filter(customer_id=customer_id).values_list("name", flat=True))
    assert names == {f"w{i}" for i in range(writers)}
    assert Customer.objects.get(pk=customer_id).version == 1 + writers


def test_concurrent_creates_with_one_reference_end_in_one_201_and_409s_naming_it(token_for, merchant):
    token = token_for(merchant)
    writers = 8

    def write(index: int):
        response = client_with(token).post(
            CUSTOMERS, {"firstname": f"Ada {index}", "reference": "CUST-RACE"}, format="json"
        )
        return response.status_code, response.json()

    results = in_threads(writers, write)

    statuses = sorted(status for status, _ in results)
    assert statuses == [201] + [409] * (writers - 1)
    created = next(body for status, body in results if status == 201)
    for status, body in results:
        if status == 409:
            assert body["type"] == "/problems/reference-in-use"
            assert body["customer_id"] == created["customer_id"]
    assert Customer.objects.filter(merchant=merchant).count() == 1
    assert CustomerEvent.objects.filter(merchant=merchant).count() == 1
