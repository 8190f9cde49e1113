"""The portal's customer filters go through the same rules as the API's list filters."""

import pytest

from tests.factories import CustomerFactory

LIST = "/portal/customers/"
EXPORT = "/portal/customers/export.csv"


@pytest.fixture
def ada(merchant):
    return CustomerFactory(merchant=merchant, firstname="Ada", lastname="Lovelace", email="ada@example.com")


@pytest.mark.parametrize("url", [LIST, EXPORT])
def test_the_last_possible_created_to_date_filters_nothing_out_instead_of_failing(portal_staff_client, ada, url):
    response = portal_staff_client.get(url, {"created_to": "9999-12-31"})

    assert response.status_code == 200
    body = response.content if url == LIST else b"".join(response.streaming_content)
    assert b"ada@example.com" in body


def test_a_nul_in_the_search_is_refused_beside_the_search_box_not_ignored(portal_staff_client, ada):
    response = portal_staff_client.get(LIST, {"q": "a\x00"})

    assert response.status_code == 200
    assert response.context["filter_form"].errors["q"]
    assert b"ada@example.com" not in response.content


def test_an_export_with_an_invalid_filter_is_refused_rather_than_exporting_everyone(portal_staff_client, ada):
    response = portal_staff_client.get(EXPORT, {"q": "\x00"})

    assert response.status_code == 400
    assert b"ada@example.com" not in response.content


def test_valid_filters_still_find_the_customer(portal_staff_client, ada, merchant):
    CustomerFactory(merchant=merchant, firstname="Grace", lastname="Hopper", email="grace@example.com")

    response = portal_staff_client.get(
        LIST, {"q": "lovelace", "created_from": "2000-01-01", "created_to": "2999-12-31"}
    )

    assert response.status_code == 200
    assert b"ada@example.com" in response.content
    assert b"grace@example.com" not in response.content
