"""The merchant's time zone, the one date format and the custom field pickers, in real headless Chromium.

Chromium runs with its en-US locale, where its own <input type="date"> would show mm/dd/yyyy: the portal's
date inputs are typed and shown as YYYY-MM-DD, and a button opens the native calendar on a hidden date input.
"""

import datetime

import pytest

from tests.browser import test_portal_browser as portal_browser
from tests.browser.test_portal_browser import DESKTOP, PHONE, expect, log_in, row, shoot

# The live server's Chromium and the merchant admin who logs in: the same fixtures as the portal's browser tests.
browser = portal_browser.browser
portal_admin = portal_browser.portal_admin

pytestmark = [pytest.mark.slow, pytest.mark.browser]


def customer_with(merchant, **data):
    from customers.services import customer_create

    return customer_create(merchant=merchant, data={"firstname": "Ada", "lastname": "Lovelace", **data})


def test_setting_the_time_zone_changes_the_times_shown(browser, live_server, portal_admin):
    from customers.models import Customer
    from merchants.models import Merchant

    customer = customer_with(portal_admin)
    created = datetime.datetime(2024, 7, 1, 23, 30, tzinfo=datetime.UTC)
    Customer.objects.filter(pk=customer.pk).update(created_at=created)
    context = browser.new_context(viewport=DESKTOP, locale="en-US")
    page = context.new_page()
    log_in(page, live_server.url)

    page.goto(f"{live_server.url}/portal/customers/{customer.pk}/")
    expect(page.get_by_test_id("customer-created")).to_have_text("2024-07-01 23:30:00")
    expect(page.get_by_test_id("time-zone")).to_have_text("Times in UTC")

    page.goto(f"{live_server.url}/portal/")
    page.get_by_role("link", name="Settings").click()
    page.get_by_label("Time zone").select_option("Asia/Tokyo")
    page.get_by_role("button", name="Save settings").click()
    expect(page.locator(".messages")).to_contain_text("Times are now shown in Asia/Tokyo.")
    assert Merchant.objects.get(pk=portal_admin.pk).time_zone == "Asia/Tokyo"
    shoot(page, "settings-desktop")

    page.goto(f"{live_server.url}/portal/customers/{customer.pk}/")
    expect(page.get_by_test_id("customer-created")).to_have_text("2024-07-02 08:30:00")
    expect(page.get_by_test_id("time-zone")).to_have_text("Times in Asia/Tokyo")
    page.get_by_role("link", name="Customers", exact=True).click()
    expect(page.locator("table tbody tr").first).to_contain_text("2024-07-02 08:30")
    context.close()


def test_a_date_custom_field_is_edited_with_the_picker_and_shown_in_the_one_date_format(
    browser, live_server, portal_admin
):
    from customers.models import Customer
    from merchants.services import merchant_set_time_zone

    merchant_set_time_zone(merchant=portal_admin, time_zone="Asia/Tokyo")
    customer = customer_with(
        portal_admin,
        options={
            "custom_fields": [
                {"name": "birthday", "type": "date", "value": "1815-12-10"},
                {"name": "last_visit", "type": "datetime", "value": "2024-07-01T23:30:00+00:00"},
            ]
        },
    )
    context = browser.new_context(viewport=DESKTOP, locale="en-US")
    page = context.new_page()
    log_in(page, live_server.url)
    page.goto(f"{live_server.url}/portal/customers/{customer.pk}/edit/")

    birthday, last_visit = row(page, 0), row(page, 1)
    expect(birthday.get_by_label("Value")).to_have_value("1815-12-10")
    expect(last_visit.get_by_label("Value")).to_have_value("2024-07-02 08:30")  # the merchant's time

    # The calendar button opens the native picker on a hidden date input; what is picked there is
    # written back into the visible input in the portal's one format, not en-US's mm/dd/yyyy.
    birthday.get_by_role("button", name="Choose date").click()
    picker = birthday.locator("input[data-picker-proxy]")
    assert picker.get_attribute("type") == "date"
    expect(picker).to_have_value("1815-12-10")
    picker.fill("1815-12-11")
    expect(birthday.get_by_label("Value")).to_have_value("1815-12-11")
    last_visit.get_by_role("button", name="Choose date and time").click()
    last_visit.locator("input[data-picker-proxy]").fill("2024-07-03T09:15")
    expect(last_visit.get_by_label("Value")).to_have_value("2024-07-03 09:15")

    # A new row's value input follows its type: a number input, a checkbox, a date with its button.
    page.get_by_role("button", name="Add a row").click()
    added = row(page, 2)
    added.get_by_label("Name").fill("visits")
    added.get_by_label("Type").select_option("integer")
    assert added.get_by_label("Value").get_attribute("type") == "number"
    added.get_by_label("Type").select_option("date")
    added.get_by_label("Value").press_sequentially("2024-05-31")  # typed, as a person would
    expect(added.get_by_role("button", name="Choose date")).to_be_visible()
    page.get_by_role("button", name="Add a row").click()
    flag = row(page, 3)
    flag.get_by_label("Name").fill("newsletter")
    flag.get_by_label("Type").select_option("boolean")
    assert flag.get_by_label("Value").get_attribute("type") == "checkbox"
    flag.get_by_label("Value").check()
    shoot(page, "custom-field-pickers-desktop")

    page.get_by_role("button", name="Save changes").click()
    page.wait_for_url(f"**/portal/customers/{customer.pk}/")
    stored = Customer.objects.get(pk=customer.pk).custom_field_list
    assert [(f.name, f.value) for f in stored] == [
        ("birthday", "1815-12-11"),
        ("last_visit", "2024-07-03T09:15:00+09:00"),
        ("visits", "2024-05-31"),
        ("newsletter", "true"),
    ]
    table = page.locator("table").inner_text()
    assert "1815-12-11" in table
    assert "2024-07-03 09:15 Asia/Tokyo" in table
    assert "Date and time" in table
    assert "12/11/1815" not in page.content()
    context.close()


def test_the_settings_page_and_the_pickers_fit_a_phone_screen(browser, live_server, portal_admin):
    customer = customer_with(
        portal_admin, options={"custom_fields": [{"name": "day", "type": "date", "value": "2024-05-31"}]}
    )
    context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True, locale="en-US")
    page = context.new_page()
    log_in(page, live_server.url)

    for path in ("/portal/settings/", f"/portal/customers/{customer.pk}/edit/", "/portal/customers/"):
        page.goto(f"{live_server.url}{path}")
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"], path
    shoot(page, "customer-list-filters-phone")
    context.close()
