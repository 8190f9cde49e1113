"""The change a request makes and its stored Idempotency-Key answer commit together, or not at all.

A server process that dies after the change but before the answer is stored must not
leave a customer behind: the key is then taken over after the lock timeout and the
request runs again, which would create a second customer.
"""

import datetime

import pytest
from django.utils import timezone

from api import views as base
from api.models import IdempotencyRecord
from customers.models import Customer
from tests.api_helpers import URL, send


class ProcessDied(BaseException):
    """Stands for the process being killed: nothing after it runs, not even the release of the key."""


def retry_after_the_lock_timeout(client, path, body, key, settings):
    IdempotencyRecord.objects.filter(key=key).update(
        created_at=timezone.now() - datetime.timedelta(seconds=settings.IDEMPOTENCY_LOCK_TIMEOUT_SECONDS + 1)
    )
    return send(client, "post", path, body, HTTP_IDEMPOTENCY_KEY=key)


@pytest.mark.parametrize(
    ("path", "body", "created"),
    [
        (URL, {"firstname": "Ada"}, 201),
        (f"{URL}/bulk", {"customers": [{"firstname": "Ada"}, {"firstname": "Grace"}]}, 207),
    ],
)
def test_a_create_whose_process_died_before_storing_the_answer_is_not_made_twice(
    api_client, merchant, settings, monkeypatch, path, body, created
):
    def die(**kwargs):
        raise ProcessDied

    monkeypatch.setattr(base, "idempotency_complete", die)
    monkeypatch.setattr(base, "idempotency_release", lambda **kwargs: None)
    with pytest.raises(ProcessDied):
        send(api_client, "post", path, body, HTTP_IDEMPOTENCY_KEY="dies-midway")
    monkeypatch.undo()

    retried = retry_after_the_lock_timeout(api_client, path, body, "dies-midway", settings)

    assert retried.status_code == created
    assert sorted(Customer.objects.filter(merchant=merchant).values_list("firstname", flat=True)) == sorted(
        item["firstname"] for item in body.get("customers", [body])
    )


def test_a_failing_bulk_item_rolls_back_alone_and_the_others_commit_with_the_answer(api_client, merchant):
    body = {"customers": [{"firstname": "Ada"}, {"firstname": ""}, {"firstname": "Grace"}]}

    response = send(api_client, "post", f"{URL}/bulk", body, HTTP_IDEMPOTENCY_KEY="partly")

    assert [item["status"] for item in response.json()["results"]] == [201, 400, 201]
    assert sorted(Customer.objects.filter(merchant=merchant).values_list("firstname", flat=True)) == ["Ada", "Grace"]
    assert IdempotencyRecord.objects.get(key="partly").completed
