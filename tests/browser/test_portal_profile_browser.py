"""The customer form's address in real headless Chromium: its parts are named as the chosen country names
them, an error sits beside its part, and the saved phone shows in national format with E.164 beside it."""

import pytest

from tests.browser.test_portal_browser import DESKTOP, browser, log_in, portal_admin, shoot  # noqa: F401

pytestmark = [pytest.mark.slow, pytest.mark.browser]


def label_of(page, input_id: str) -> str:
    return page.locator(f"label[for='{input_id}']").inner_text()


def test_the_address_is_named_per_country_checked_beside_its_parts_and_the_phone_shown_nationally(
    browser,  # noqa: F811
    live_server,
    portal_admin,  # noqa: F811
):
    from customers.models import Customer

    page = browser.new_context(viewport=DESKTOP).new_page()
    log_in(page, live_server.url)
    page.goto(f"{live_server.url}/portal/customers/new/")

    page.get_by_label("Country").select_option("USA")
    assert (label_of(page, "id_address_postal_code"), label_of(page, "id_address_region")) == ("ZIP code", "State")
    page.get_by_label("Country").select_option("IRL")
    assert (label_of(page, "id_address_postal_code"), label_of(page, "id_address_region")) == ("Eircode", "County")
    page.get_by_label("Country").select_option("GBR")
    assert label_of(page, "id_address_postal_code") == "Postcode"
    assert page.locator("#id_address_region").is_hidden()  # no region in British addresses

    page.get_by_label("First name").fill("Ada")
    page.get_by_label("Phone").fill("020 7183 8750")
    page.get_by_label("Your reference").fill("CUST-1")
    page.get_by_label("Address line 1").fill("10 Downing Street")
    page.get_by_label("Post town").fill("London")
    page.get_by_label("Postcode").fill("12345")
    page.get_by_role("button", name="Create customer").click()

    field = page.locator(".field", has=page.locator("#id_address_postal_code"))
    assert "Must be a valid postcode for GBR" in field.inner_text()
    assert not Customer.objects.exists()
    shoot(page, "customer-form-address-error-desktop")

    page.get_by_label("Postcode").fill("sw1a 2aa")
    page.get_by_role("button", name="Create customer").click()
    page.wait_for_url("**/portal/customers/*/")

    phone = page.locator("span[title='+442071838750']")
    assert phone.first.inner_text() == "020 7183 8750"
    assert "(+442071838750)" in page.locator(".details").inner_text()
    assert "SW1A 2AA" in page.locator(".details").inner_text()
    shoot(page, "customer-detail-profile-desktop")
    customer = Customer.objects.get()
    assert (customer.phone, customer.address_postal_code, customer.reference) == ("+442071838750", "SW1A 2AA", "CUST-1")
