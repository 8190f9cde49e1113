"""The merchant's time zone: set by an admin on the settings page, used for every time shown and every date filter."""

import datetime
import zoneinfo

import pytest
from django.core.exceptions import ValidationError

from customers.models import Customer
from merchants.models import Merchant
from merchants.services import merchant_set_time_zone
from tests.factories import CustomerFactory

SETTINGS = "/portal/settings/"


def created_at(customer, moment: datetime.datetime) -> Customer:
    Customer.objects.filter(pk=customer.pk).update(created_at=moment)
    return Customer.objects.get(pk=customer.pk)


def test_a_new_merchant_shows_times_in_utc_and_says_so(portal_staff_client, merchant):
    html = portal_staff_client.get("/portal/").content.decode()

    assert Merchant.objects.get(pk=merchant.pk).time_zone == "UTC"
    assert "Times in UTC" in html


def test_an_admin_sets_the_time_zone_and_every_page_names_it(portal_admin_client, merchant):
    response = portal_admin_client.post(SETTINGS, {"time_zone": "Europe/London"})

    assert response.status_code == 302
    assert Merchant.objects.get(pk=merchant.pk).time_zone == "Europe/London"
    page = portal_admin_client.get(response["Location"]).content.decode()
    assert "Times are now shown in Europe/London." in page
    assert '<option value="Europe/London" selected>' in page
    assert "Times in Europe/London" in portal_admin_client.get("/portal/customers/").content.decode()


@pytest.mark.parametrize("zone", ["Mars/Olympus_Mons", "", "localtime", "../../etc/passwd", "europe/london"])
def test_an_unknown_time_zone_is_refused_beside_the_input_and_nothing_changes(portal_admin_client, merchant, zone):
    response = portal_admin_client.post(SETTINGS, {"time_zone": zone})

    assert response.status_code == 400
    assert response.context["form"].errors["time_zone"]
    assert Merchant.objects.get(pk=merchant.pk).time_zone == "UTC"


def test_the_service_refuses_an_unknown_zone_by_field(merchant):
    with pytest.raises(ValidationError) as refused:
        merchant_set_time_zone(merchant=merchant, time_zone="Atlantis/Capital")

    assert refused.value.error_dict["time_zone"][0].code == "invalid_time_zone"


def test_a_staff_member_cannot_open_or_post_the_settings(portal_staff_client, merchant):
    assert portal_staff_client.get(SETTINGS).status_code == 403
    assert portal_staff_client.post(SETTINGS, {"time_zone": "Asia/Tokyo"}).status_code == 403
    assert Merchant.objects.get(pk=merchant.pk).time_zone == "UTC"


def test_the_settings_page_costs_a_fixed_number_of_queries(portal_admin_client, django_assert_num_queries):
    portal_admin_client.get(SETTINGS)  # the session is read once, warm
    # session, user, memberships (with merchants)
    with django_assert_num_queries(3):
        assert portal_admin_client.get(SETTINGS).status_code == 200


def test_a_customers_times_are_shown_in_the_merchants_zone(portal_staff_client, merchant):
    customer = created_at(
        CustomerFactory(merchant=merchant), datetime.datetime(2024, 7, 1, 23, 30, tzinfo=datetime.UTC)
    )
    merchant_set_time_zone(merchant=merchant, time_zone="Asia/Tokyo")

    detail = portal_staff_client.get(f"/portal/customers/{customer.pk}/").content.decode()
    listing = portal_staff_client.get("/portal/customers/").content.decode()

    assert "2024-07-02 08:30:00</time> Asia/Tokyo" in detail
    assert "2024-07-02 08:30" in listing
    assert "2024-07-01 23:30" not in listing


def test_the_api_keeps_utc_whatever_the_merchants_zone(api_client, merchant):
    customer = created_at(
        CustomerFactory(merchant=merchant), datetime.datetime(2024, 7, 1, 23, 30, tzinfo=datetime.UTC)
    )
    merchant_set_time_zone(merchant=merchant, time_zone="Asia/Tokyo")

    body = api_client.get(f"/api/v1/customers/{customer.pk}").json()["data"]

    assert body["created_at"].startswith("2024-07-01T23:30:00")
    assert body["created_at"].endswith("Z")


def test_the_created_date_filters_mean_the_merchants_days(portal_staff_client, merchant):
    tokyo = zoneinfo.ZoneInfo("Asia/Tokyo")
    # 2024-07-02 in Tokyo is 2024-07-01T15:00Z to 2024-07-02T15:00Z.
    late_on_the_first_utc = CustomerFactory(merchant=merchant, firstname="SecondInTokyo")
    late_on_the_first_utc = created_at(late_on_the_first_utc, datetime.datetime(2024, 7, 1, 16, 0, tzinfo=datetime.UTC))
    early_on_the_second_utc = CustomerFactory(merchant=merchant, firstname="ThirdInTokyo")
    early_on_the_second_utc = created_at(
        early_on_the_second_utc, datetime.datetime(2024, 7, 2, 15, 30, tzinfo=datetime.UTC)
    )
    assert late_on_the_first_utc.created_at.astimezone(tokyo).day == 2
    assert early_on_the_second_utc.created_at.astimezone(tokyo).day == 3
    merchant_set_time_zone(merchant=merchant, time_zone="Asia/Tokyo")

    html = portal_staff_client.get("/portal/customers/?created_from=2024-07-02&created_to=2024-07-02").content.decode()

    assert "SecondInTokyo" in html
    assert "ThirdInTokyo" not in html


def test_the_date_filters_take_the_one_date_format_and_refuse_others_beside_the_input(portal_staff_client):
    response = portal_staff_client.get("/portal/customers/?created_from=07/02/2024")

    assert response.context["filter_form"].errors["created_from"]
    html = response.content.decode()
    assert 'placeholder="YYYY-MM-DD"' in html
    assert 'data-picker="date"' in html
    assert 'type="date"' not in html  # Chromium would show the locale's mm/dd/yyyy
