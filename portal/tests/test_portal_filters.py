"""The portal's customer filters go through the same rules as the API's list filters."""

import pytest

from tests.factories import CustomerFactory
from tests.jobs import portal_export

LIST = "/portal/customers/"
EXPORT = "/portal/customers/export/"


@pytest.fixture
def ada(merchant):
    return CustomerFactory(merchant=merchant, firstname="Ada", lastname="Lovelace", email="ada@example.com")


def test_the_last_possible_created_to_date_filters_nothing_out_instead_of_failing(
    portal_staff_client, ada, django_capture_on_commit_callbacks
):
    listed = portal_staff_client.get(LIST, {"created_to": "9999-12-31"})
    exported = portal_export(portal_staff_client, django_capture_on_commit_callbacks, {"created_to": "9999-12-31"})

    assert listed.status_code == exported.status_code == 200
    assert b"ada@example.com" in listed.content
    assert b"ada@example.com" in b"".join(exported.streaming_content)


def test_a_nul_in_the_search_is_refused_beside_the_search_box_not_ignored(portal_staff_client, ada):
    response = portal_staff_client.get(LIST, {"q": "a\x00"})

    assert response.status_code == 200
    assert response.context["filter_form"].errors["q"]
    assert b"ada@example.com" not in response.content


def test_an_export_with_an_invalid_filter_is_refused_rather_than_exporting_everyone(portal_staff_client, ada):
    from customers.models import CustomerExport

    response = portal_staff_client.post(f"{EXPORT}?q=%00")

    assert response.status_code == 400
    assert b"ada@example.com" not in response.content
    assert not CustomerExport.objects.exists()


def test_valid_filters_still_find_the_customer(portal_staff_client, ada, merchant):
    CustomerFactory(merchant=merchant, firstname="Grace", lastname="Hopper", email="grace@example.com")

    response = portal_staff_client.get(
        LIST, {"q": "lovelace", "created_from": "2000-01-01", "created_to": "2999-12-31"}
    )

    assert response.status_code == 200
    assert b"ada@example.com" in response.content
    assert b"grace@example.com" not in response.content
