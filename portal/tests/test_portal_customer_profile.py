"""Phone, address and reference in the portal: the form names the address parts per country, errors sit
beside their inputs, the list and detail show the phone in its country's format with E.164 beside it."""

import pytest

from customers.models import Customer
from customers.services import customer_create
from tests.form_helpers import form_data

UK = {
    "address_country": "GBR",
    "address_line1": "10 Downing Street",
    "address_city": "London",
    "address_postal_code": "sw1a 2aa",
}


def test_creating_a_customer_with_phone_address_and_reference(portal_staff_client, merchant):
    response = portal_staff_client.post(
        "/portal/customers/new/", form_data(firstname="Ada", phone="020 7183 8750", reference="CUST-1", **UK)
    )

    assert response.status_code == 302, response.context["form"].errors
    customer = Customer.objects.get()
    assert (customer.phone, customer.address_postal_code, customer.address_city, customer.reference) == (
        "+442071838750",
        "SW1A 2AA",
        "London",
        "CUST-1",
    )


@pytest.mark.parametrize(
    ("country", "postal_code", "region"),
    [("GBR", "Postcode", "Region"), ("USA", "ZIP code", "State"), ("IRL", "Eircode", "County")],
)
def test_the_address_inputs_are_named_as_the_country_names_them(portal_staff_client, country, postal_code, region):
    response = portal_staff_client.post("/portal/customers/new/", form_data(address_country=country))

    form = response.context["form"]
    assert form.fields["address_postal_code"].label == postal_code
    if country != "GBR":
        assert form.fields["address_region"].label == region
    html = response.content.decode()
    assert f'<label for="id_address_postal_code">{postal_code}</label>' in html
    assert '"USA": {"line1": "Address line 1"' in html  # the labels of every country, for the script


def test_profile_errors_are_shown_beside_their_inputs_and_the_input_is_kept(portal_staff_client, merchant):
    customer_create(merchant=merchant, data={"firstname": "Holder", "reference": "CUST-1"})

    response = portal_staff_client.post(
        "/portal/customers/new/",
        form_data(firstname="Ada", phone="020 7183", reference="CUST-1", **{**UK, "address_postal_code": "12345"}),
    )

    assert response.status_code == 400
    errors = response.context["form"].errors
    assert set(errors) == {"phone", "address_postal_code"}
    assert "postcode for GBR" in errors["address_postal_code"][0]
    html = response.content.decode()
    assert 'value="12345"' in html
    assert Customer.objects.count() == 1


def test_a_reference_in_use_is_shown_beside_the_reference_input(portal_staff_client, merchant):
    holder = customer_create(merchant=merchant, data={"firstname": "Holder", "reference": "CUST-1"})

    response = portal_staff_client.post("/portal/customers/new/", form_data(firstname="Ada", reference="CUST-1"))

    assert response.status_code == 400
    assert str(holder.customer_id) in response.context["form"].errors["reference"][0]
    assert Customer.objects.count() == 1


def test_list_and_detail_show_the_phone_nationally_with_e164_on_hover_and_in_the_detail(portal_staff_client, merchant):
    customer = customer_create(
        merchant=merchant,
        data={"firstname": "Ada", "phone": "+442071838750", "address_country": "GBR", "address": {
            "line1": "10 Downing Street", "city": "London", "postal_code": "SW1A 2AA"}, "reference": "CUST-1"},
    )  # fmt: skip

    listing = portal_staff_client.get("/portal/customers/").content.decode()
    detail = portal_staff_client.get(f"/portal/customers/{customer.pk}/").content.decode()

    assert '<span title="+442071838750">020 7183 8750</span>' in listing
    assert '<span title="+442071838750">020 7183 8750</span> <span class="muted">(+442071838750)</span>' in detail
    assert "<dt>Postcode</dt><dd>SW1A 2AA</dd>" in detail
    assert "<dt>Post town</dt><dd>London</dd>" in detail
    assert "<code>CUST-1</code>" in detail


def test_the_search_box_finds_a_customer_by_phone_and_reference(portal_staff_client, merchant):
    customer_create(merchant=merchant, data={"firstname": "Ada", "phone": "+442071838750", "reference": "R-9"})
    customer_create(merchant=merchant, data={"firstname": "Grace", "phone": "+16502530000"})

    def found(term):
        response = portal_staff_client.get("/portal/customers/", {"q": term})
        return [customer.firstname for customer, _country in response.context["rows"]]

    assert found("020 7183 8750") == ["Ada"]
    assert found("(650) 253-0000") == ["Grace"]
    assert found("r-9") == ["Ada"]


def test_editing_keeps_the_profile_and_clears_what_is_emptied(portal_staff_client, merchant):
    customer = customer_create(
        merchant=merchant, data={"firstname": "Ada", "phone": "+442071838750", "reference": "CUST-1"}
    )
    form = portal_staff_client.get(f"/portal/customers/{customer.pk}/edit/").context["form"]
    assert (form["phone"].value(), form["reference"].value()) == ("+442071838750", "CUST-1")

    response = portal_staff_client.post(
        f"/portal/customers/{customer.pk}/edit/",
        form_data(firstname="Ada", phone="+442071838750", reference="", version="1"),
    )

    assert response.status_code == 302
    stored = Customer.objects.get()
    assert (stored.phone, stored.reference) == ("+442071838750", None)
