"""Phone, postal address and the merchant's own reference through the API: create, read, patch, search, conflicts."""

import pytest

from audit.models import AuditEntry
from customers.models import Customer
from events.models import CustomerEvent
from tests.api_helpers import URL, assert_problem, create, detail_url, error_fields, send

UK_ADDRESS = {"line1": "10 Downing Street", "line2": None, "city": "London", "region": None, "postal_code": "SW1A 2AA"}


def post(client, body):
    return send(client, "post", URL, body)


def patch(client, customer_id, body):
    return send(client, "patch", detail_url(customer_id), body, content_type="application/merge-patch+json")


def messages(response, field) -> list[str]:
    return [error["message"] for error in response.json()["errors"] if error["field"] == field]


# --- phone -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "stored"),
    [
        ({"phone": "+44 20 7183 8750"}, "+442071838750"),
        ({"phone": "+1 (650) 253-0000"}, "+16502530000"),
        ({"phone": "020 7183 8750", "address_country": "GBR"}, "+442071838750"),
        ({"phone": "030 123456", "address_country": "deu"}, "+4930123456"),
        ({"phone": "+442071838750", "address_country": "USA"}, "+442071838750"),
    ],
)
def test_a_phone_is_stored_and_answered_in_e164(api_client, body, stored):
    data = create(api_client, {"firstname": "Ada", **body})["data"]

    assert data["phone"] == stored
    assert Customer.objects.get().phone == stored


def test_a_national_number_without_a_country_is_a_400_asking_for_the_country_code(api_client):
    response = post(api_client, {"firstname": "Ada", "phone": "020 7183 8750"})

    assert error_fields(response) == {"phone": ["phone_needs_country"]}
    assert "add the country code" in messages(response, "phone")[0]
    assert not Customer.objects.exists()


def test_an_impossible_number_is_a_400_saying_why_in_words(api_client):
    too_short = post(api_client, {"firstname": "Ada", "phone": "+44 12"})
    not_a_number_there = post(api_client, {"firstname": "Ada", "phone": "+44 20 71"})

    assert error_fields(too_short) == {"phone": ["invalid_phone"]}
    assert messages(too_short, "phone") == ["'+44 12' is not a possible phone number: it is too short."]
    assert messages(not_a_number_there, "phone") == [
        "'+44 20 71' is not a valid phone number in GBR: no number there is written like this."
    ]


# --- address -----------------------------------------------------------------------------------


def test_an_address_is_stored_and_answered_as_an_object(api_client):
    data = create(api_client, {"firstname": "Ada", "address": UK_ADDRESS, "address_country": "GBR"})["data"]

    assert data["address"] == UK_ADDRESS
    customer = Customer.objects.get()
    assert (customer.address_line1, customer.address_city, customer.address_postal_code) == (
        "10 Downing Street",
        "London",
        "SW1A 2AA",
    )


@pytest.mark.parametrize(
    ("country", "address", "normalized"),
    [
        ("GBR", {"line1": "10 Downing St", "city": "London", "postal_code": "sw1a 2aa"}, {"postal_code": "SW1A 2AA"}),
        ("DEU", {"line1": "Unter den Linden 1", "city": "Berlin", "postal_code": "10115"}, {"postal_code": "10115"}),
        ("USA", {"line1": "1600 Amphitheatre Pkwy", "city": "Mountain View", "region": "California",
                 "postal_code": "94043"}, {"region": "CA"}),
        ("CAN", {"line1": "1 Main St", "city": "Toronto", "region": "ontario", "postal_code": "m5v 2t6"},
         {"region": "ON", "postal_code": "M5V 2T6"}),
        # Ireland: no postal code required.
        ("IRL", {"line1": "1 Main Street", "city": "Dublin"}, {}),
    ],
)  # fmt: skip
def test_an_address_is_validated_and_normalized_for_its_country(api_client, country, address, normalized):
    data = create(api_client, {"firstname": "Ada", "address_country": country, "address": address})["data"]

    expected = {"line1": None, "line2": None, "city": None, "region": None, "postal_code": None}
    assert data["address"] == {**expected, **address, **normalized}


@pytest.mark.parametrize(
    ("country", "address", "field", "words"),
    [
        ("GBR", {"line1": "1 Road", "city": "London", "postal_code": "12345"}, "address.postal_code", "EC1Y 8SY"),
        ("DEU", {"line1": "Hauptstr. 1", "city": "Berlin", "postal_code": "ABC"}, "address.postal_code", "26133"),
        ("USA", {"line1": "1 Road", "city": "Springfield", "postal_code": "62701"}, "address.region", "need a state"),
        (
            "USA",
            {"line1": "1 Road", "city": "X", "region": "Narnia", "postal_code": "62701"},
            "address.region",
            "AL (Alabama)",
        ),
        ("GBR", {"city": "London", "postal_code": "SW1A 2AA"}, "address.line1", "first address line"),
    ],
)
def test_an_address_that_does_not_fit_its_country_names_the_part_and_what_is_expected(
    api_client, country, address, field, words
):
    response = post(api_client, {"firstname": "Ada", "address_country": country, "address": address})

    assert field in error_fields(response)
    assert words in " ".join(messages(response, field))
    assert not Customer.objects.exists()


def test_an_address_without_a_country_is_checked_for_structure_only(api_client):
    data = create(api_client, {"firstname": "Ada", "address": {"city": "Leeds", "postal_code": "ls1 4ap"}})["data"]

    assert data["address"]["city"] == "Leeds"
    assert data["address"]["postal_code"] == "LS1 4AP"


def test_an_empty_address_is_no_address(api_client):
    data = create(api_client, {"firstname": "Ada", "address": {"city": " ", "line1": None}})["data"]

    assert data["address"] is None


# --- bad input: a 400 naming the field, nothing written ------------------------------------------


@pytest.mark.parametrize(
    ("extra", "field"),
    [
        ({"phone": "+44 20 FLOWERS"}, "phone"),
        ({"phone": "1-800-FLOWERS", "address_country": "USA"}, "phone"),
        ({"phone": "+" + "1" * 40}, "phone"),
        ({"phone": "1" * 40, "address_country": "USA"}, "phone"),
        ({"phone": "+0"}, "phone"),
        ({"phone": 442071838750}, "phone"),
        ({"phone": "+44 20 7183\x00 8750"}, "phone"),
        ({"phone": "+44 20 7183 \ud800"}, "phone"),
        ({"address": {"line1": "x" * 10_000}}, "address.line1"),
        ({"address": {"line2": "x" * 201}}, "address.line2"),
        ({"address": {"city": "Lon\x00don"}}, "address.city"),
        ({"address": {"region": "\udc00"}}, "address.region"),
        ({"address": {"postal_code": "SW1A\x002AA"}}, "address.postal_code"),
        ({"address": {"city": 7}}, "address.city"),
        ({"address": "10 Downing Street"}, "address"),
        ({"address": ["10 Downing Street"]}, "address"),
        ({"address": {"adress": "x"}}, "address.adress"),
        ({"adress": {"city": "London"}}, "adress"),
        ({"address_country": "GBR", "address": {**UK_ADDRESS, "region": "Greater London"}}, "address.region"),
        ({"reference": "has spaces"}, "reference"),
        ({"reference": "r" * 129}, "reference"),
        ({"reference": "ref\x00"}, "reference"),
        ({"reference": "ref\ud800"}, "reference"),
        ({"reference": "réf"}, "reference"),
        ({"reference": 12}, "reference"),
    ],
)
def test_bad_profile_input_is_a_400_naming_the_field_and_writes_nothing(api_client, extra, field):
    response = post(api_client, {"firstname": "Ada", **extra})

    assert field in error_fields(response)
    assert not Customer.objects.exists()
    assert not CustomerEvent.objects.exists()


def test_a_misspelt_address_says_did_you_mean_address(api_client):
    response = post(api_client, {"firstname": "Ada", "adress": {"city": "London"}})

    assert messages(response, "adress") == ["Unknown field 'adress'. Did you mean 'address'?"]


def test_a_misspelt_address_part_suggests_the_part(api_client):
    response = post(api_client, {"firstname": "Ada", "address": {"postcode": "SW1A 2AA"}})

    assert messages(response, "address.postcode") == ["Unknown field 'postcode'. Did you mean 'postal_code'?"]


def test_a_reference_of_129_characters_says_the_limit(api_client):
    response = post(api_client, {"firstname": "Ada", "reference": "r" * 129})

    assert "1-128 characters" in messages(response, "reference")[0]


# --- reference ---------------------------------------------------------------------------------


def test_a_reference_is_stored_and_found_exactly(api_client):
    created = create(api_client, {"firstname": "Ada", "reference": "CUST-42/a.b:c_d"})
    create(api_client, {"firstname": "Bob", "reference": "CUST-421"})

    response = send(api_client, "get", f"{URL}?reference=CUST-42/a.b:c_d")

    assert [c["customer_id"] for c in response.json()["data"]] == [created["customer_id"]]
    assert response.json()["data"][0]["reference"] == "CUST-42/a.b:c_d"


def test_a_second_customer_with_a_reference_in_use_is_a_409_naming_the_first(api_client):
    first = create(api_client, {"firstname": "Ada", "reference": "CUST-1"})

    response = post(api_client, {"firstname": "Another Ada", "reference": "CUST-1"})

    body = assert_problem(response, 409, "reference-in-use")
    assert body["customer_id"] == first["customer_id"]
    assert first["customer_id"] in body["detail"]
    assert Customer.objects.count() == 1
    assert CustomerEvent.objects.count() == 1
    assert AuditEntry.objects.count() == 1


def test_duplicates_without_a_reference_are_still_never_merged(api_client):
    create(api_client, {"email": "ada@example.com"})
    create(api_client, {"email": "ada@example.com"})

    assert Customer.objects.count() == 2


def test_another_merchant_may_use_the_same_reference(api_client, other_api_client):
    create(api_client, {"firstname": "Ada", "reference": "CUST-1"})
    create(other_api_client, {"firstname": "Ada", "reference": "CUST-1"})

    assert Customer.objects.filter(reference="CUST-1").count() == 2
    response = send(other_api_client, "get", f"{URL}?reference=CUST-1")
    assert len(response.json()["data"]) == 1


def test_patch_sets_changes_and_clears_the_reference(api_client):
    customer_id = create(api_client, {"firstname": "Ada"})["customer_id"]

    assert patch(api_client, customer_id, {"reference": "A-1"}).json()["data"]["reference"] == "A-1"
    assert patch(api_client, customer_id, {"reference": "A-2"}).json()["data"]["reference"] == "A-2"
    assert patch(api_client, customer_id, {"reference": None}).json()["data"]["reference"] is None
    assert Customer.objects.get().reference is None


def test_patch_to_another_customers_reference_is_a_409_and_changes_nothing(api_client):
    holder = create(api_client, {"firstname": "Ada", "reference": "A-1"})["customer_id"]
    other = create(api_client, {"firstname": "Bob", "reference": "B-1"})["customer_id"]

    response = patch(api_client, other, {"reference": "A-1", "firstname": "Robert"})

    assert assert_problem(response, 409, "reference-in-use")["customer_id"] == holder
    stored = Customer.objects.get(pk=other)
    assert (stored.firstname, stored.reference, stored.version) == ("Bob", "B-1", 1)


def test_patch_keeping_its_own_reference_is_no_conflict(api_client):
    customer_id = create(api_client, {"firstname": "Ada", "reference": "A-1"})["customer_id"]

    response = patch(api_client, customer_id, {"reference": "A-1", "firstname": "Augusta"})

    assert response.status_code == 200, response.content


# --- merge patch of the address and phone ------------------------------------------------------


def test_patch_of_one_address_part_changes_that_part_only(api_client):
    customer_id = create(api_client, {"firstname": "Ada", "address_country": "GBR", "address": UK_ADDRESS})[
        "customer_id"
    ]

    data = patch(api_client, customer_id, {"address": {"city": "Westminster"}}).json()["data"]

    assert data["address"] == {**UK_ADDRESS, "city": "Westminster"}
    assert AuditEntry.objects.filter(action="updated").get().changed_fields == ["address.city"]


def test_patch_with_a_null_address_clears_it(api_client):
    customer_id = create(api_client, {"firstname": "Ada", "address": UK_ADDRESS})["customer_id"]

    data = patch(api_client, customer_id, {"address": None}).json()["data"]

    assert data["address"] is None
    assert Customer.objects.get().address_line1 is None


def test_patch_checks_the_merged_address_against_the_stored_country(api_client):
    customer_id = create(api_client, {"firstname": "Ada", "address_country": "GBR", "address": UK_ADDRESS})[
        "customer_id"
    ]

    response = patch(api_client, customer_id, {"address": {"postal_code": "123"}})

    assert error_fields(response) == {"address.postal_code": ["invalid_address"]}
    assert Customer.objects.get().address_postal_code == "SW1A 2AA"


def test_patch_of_a_national_number_uses_the_stored_country(api_client):
    customer_id = create(api_client, {"firstname": "Ada", "address_country": "GBR"})["customer_id"]

    data = patch(api_client, customer_id, {"phone": "020 7183 8750"}).json()["data"]

    assert data["phone"] == "+442071838750"


def test_patch_sending_the_stored_phone_in_another_format_changes_nothing(api_client):
    customer_id = create(api_client, {"firstname": "Ada", "phone": "+442071838750"})["customer_id"]

    data = patch(api_client, customer_id, {"phone": "+44 20 7183 8750"}).json()["data"]

    assert data["phone"] == "+442071838750"
    assert Customer.objects.get().version == 1


# --- search ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "query", ["020 7183 8750", "+44 20 7183 8750", "442071838750", "02071838750", "7183 8750", "(020) 7183-8750"]
)
def test_q_finds_the_phone_written_any_way(api_client, query):
    found = create(api_client, {"firstname": "Ada", "phone": "+442071838750"})["customer_id"]
    create(api_client, {"firstname": "Bob", "phone": "+14155550123"})

    response = send(api_client, "get", URL, None, QUERY_STRING=f"q={query.replace('+', '%2B')}")

    assert [c["customer_id"] for c in response.json()["data"]] == [found]


def test_q_finds_the_reference(api_client):
    found = create(api_client, {"firstname": "Ada", "reference": "ORDER-7781"})["customer_id"]
    create(api_client, {"firstname": "Bob", "reference": "ORDER-1234"})

    response = send(api_client, "get", f"{URL}?q=order-778")

    assert [c["customer_id"] for c in response.json()["data"]] == [found]


def test_a_patched_phone_is_searched_by_its_new_number(api_client):
    customer_id = create(api_client, {"firstname": "Ada", "phone": "+442071838750"})["customer_id"]
    patch(api_client, customer_id, {"phone": "+14155550123"})

    assert send(api_client, "get", f"{URL}?q=4155550123").json()["data"][0]["customer_id"] == customer_id
    assert send(api_client, "get", f"{URL}?q=2071838750").json()["data"] == []


def test_bulk_answers_409_for_an_item_whose_reference_is_taken_and_creates_the_others(api_client):
    holder = create(api_client, {"firstname": "Ada", "reference": "A-1"})["customer_id"]

    response = send(
        api_client,
        "post",
        f"{URL}/bulk",
        {"customers": [{"firstname": "B", "reference": "B-1"}, {"firstname": "C", "reference": "A-1"},
                       {"firstname": "D", "reference": "B-1"}]},
    )  # fmt: skip

    assert response.status_code == 207
    results = response.json()["results"]
    assert [r["status"] for r in results] == [201, 409, 409]
    assert results[1]["customer_id"] == holder
    assert results[2]["customer_id"] == results[0]["customer_id"]
    assert results[1]["errors"][0]["field"] == "reference"
    assert Customer.objects.count() == 2


def test_a_reference_in_use_under_an_idempotency_key_is_a_409_and_its_replay_the_same(api_client):
    holder = create(api_client, {"firstname": "Ada", "reference": "A-1"})["customer_id"]
    body = {"firstname": "Bob", "reference": "A-1"}

    first = send(api_client, "post", URL, body, HTTP_IDEMPOTENCY_KEY="dup-ref-1")
    replay = send(api_client, "post", URL, body, HTTP_IDEMPOTENCY_KEY="dup-ref-1")

    assert assert_problem(first, 409, "reference-in-use")["customer_id"] == holder
    assert replay.status_code == 409
    assert replay.json()["customer_id"] == holder
    assert Customer.objects.count() == 1
