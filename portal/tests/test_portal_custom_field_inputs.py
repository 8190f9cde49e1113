"""Custom fields in the portal: an input for each type, values shown for people, the API's rules kept."""

import re

import pytest

from audit.models import AuditEntry
from customers.models import Customer
from customers.services import customer_create
from merchants.services import merchant_set_time_zone
from tests.factories import CustomerFactory, CustomFieldFactory
from tests.form_helpers import form_data

FIELDS = [
    ("birthday", "date", "1815-12-10"),
    ("last_visit", "datetime", "2024-07-01T23:30:00+00:00"),
    ("visits", "integer", "12"),
    ("balance", "number", "12.50"),
    ("newsletter", "boolean", "true"),
    ("homepage", "url", "https://ada.example/"),
    ("contact", "email", "ada@example.com"),
    ("note", "string", "hello"),
]


@pytest.fixture
def ada(merchant):
    return customer_create(
        merchant=merchant,
        data={
            "firstname": "Ada",
            "options": {"custom_fields": [{"name": n, "type": t, "value": v} for n, t, v in FIELDS]},
        },
    )


def value_input(html: str, index: int) -> str:
    return re.search(rf'<input[^>]*name="cf-{index}-value"[^>]*>', html).group(0)


def edit_post(customer, rows, **fields) -> dict:
    data = form_data(firstname="Ada", version=str(customer.version), **fields)
    data["cf-TOTAL_FORMS"] = str(len(rows))
    for index in range(3):  # form_data's rows: only what each row sends (an unchecked box sends nothing)
        for key in ("name", "type", "value"):
            data.pop(f"cf-{index}-{key}")
    for index, row in enumerate(rows):
        data.update({f"cf-{index}-{key}": value for key, value in row.items()})
    return data


def test_the_edit_page_gives_each_type_its_own_input(portal_staff_client, merchant, ada):
    merchant_set_time_zone(merchant=merchant, time_zone="Asia/Tokyo")

    html = portal_staff_client.get(f"/portal/customers/{ada.pk}/edit/").content.decode()

    assert 'type="text"' in value_input(html, 0)
    assert 'data-picker="date"' in value_input(html, 0)
    assert 'value="1815-12-10"' in value_input(html, 0)
    assert 'data-picker="datetime"' in value_input(html, 1)
    assert 'value="2024-07-02 08:30"' in value_input(html, 1)  # in the merchant's zone
    assert 'value="2024-07-01T23:30:00+00:00"' in html  # kept, hidden, to save it unchanged
    assert 'type="number"' in value_input(html, 2)
    assert 'step="1"' in value_input(html, 2)
    assert 'type="number"' in value_input(html, 3)
    assert 'step="any"' in value_input(html, 3)
    assert 'type="checkbox"' in value_input(html, 4)
    assert "checked" in value_input(html, 4)
    assert 'type="url"' in value_input(html, 5)
    assert 'type="email"' in value_input(html, 6)
    assert 'type="text"' in value_input(html, 7)
    assert '<option value="datetime">Date and time</option>' in html
    assert '<option value="url">URL</option>' in html
    assert ">Datetime<" not in html
    assert ">Url<" not in html


def test_a_date_and_time_typed_without_an_offset_is_the_merchants_local_time(portal_staff_client, merchant, ada):
    merchant_set_time_zone(merchant=merchant, time_zone="Europe/London")
    rows = [{"name": "meeting", "type": "datetime", "value": "2024-07-01 09:15"}]

    response = portal_staff_client.post(f"/portal/customers/{ada.pk}/edit/", edit_post(ada, rows))

    assert response.status_code == 302
    assert [(f.name, f.value) for f in Customer.objects.get(pk=ada.pk).custom_fields.all()] == [
        ("meeting", "2024-07-01T09:15:00+01:00")
    ]


def test_saving_the_edit_page_unchanged_changes_no_value(portal_staff_client, merchant, ada):
    merchant_set_time_zone(merchant=merchant, time_zone="Asia/Tokyo")
    form = portal_staff_client.get(f"/portal/customers/{ada.pk}/edit/").context["formset"]
    rows = [
        {
            "name": row.initial["name"],
            "type": row.initial["type"],
            "value": row.initial["value"],
            "original": row.initial.get("original", ""),
        }
        for row in form.forms
        if row.initial
    ]
    rows[4]["value"] = "true"  # a checked box sends its value attribute

    response = portal_staff_client.post(f"/portal/customers/{ada.pk}/edit/", edit_post(ada, rows))

    assert response.status_code == 302
    stored = [(f.name, f.type, f.value) for f in Customer.objects.get(pk=ada.pk).custom_fields.all()]
    assert stored == FIELDS
    assert not AuditEntry.objects.filter(customer_id=ada.pk, action="updated").exclude(changed_fields=[]).exists()


def test_an_unchecked_box_saves_false_and_a_blank_boolean_row_is_ignored(portal_staff_client, ada):
    rows = [{"name": "newsletter", "type": "boolean"}, {"name": "", "type": "boolean"}]

    response = portal_staff_client.post(f"/portal/customers/{ada.pk}/edit/", edit_post(ada, rows))

    assert response.status_code == 302
    assert [(f.name, f.value) for f in Customer.objects.get(pk=ada.pk).custom_fields.all()] == [("newsletter", "false")]


def test_the_apis_rules_still_apply_and_a_refused_value_stays_in_view(portal_staff_client, ada):
    rows = [
        {"name": "visits", "type": "integer", "value": "3.5"},
        {"name": "contact", "type": "email", "value": "not an address"},
        {"name": "when", "type": "date", "value": "31/05/2024"},
    ]

    response = portal_staff_client.post(f"/portal/customers/{ada.pk}/edit/", edit_post(ada, rows))

    assert response.status_code == 400
    errors = [row.errors.get("value") for row in response.context["formset"].forms]
    assert errors[0] == ["Must be an integer, for example 42."]
    assert errors[1] == ["Must be a valid email address."]
    assert errors[2] == ["Must be a date as YYYY-MM-DD, for example 2024-05-31."]
    html = response.content.decode()
    assert 'value="3.5"' in value_input(html, 0)
    assert 'value="31/05/2024"' in value_input(html, 2)
    assert len(Customer.objects.get(pk=ada.pk).custom_fields.all()) == len(FIELDS)


def test_a_value_a_number_input_would_drop_is_shown_in_a_text_input(portal_staff_client, ada):
    rows = [{"name": "visits", "type": "integer", "value": "three"}]

    html = portal_staff_client.post(f"/portal/customers/{ada.pk}/edit/", edit_post(ada, rows)).content.decode()

    assert 'type="text"' in value_input(html, 0)
    assert 'value="three"' in value_input(html, 0)


def test_the_detail_page_shows_values_for_people(portal_staff_client, merchant, ada):
    merchant_set_time_zone(merchant=merchant, time_zone="Asia/Tokyo")

    html = portal_staff_client.get(f"/portal/customers/{ada.pk}/").content.decode()

    assert '<a href="https://ada.example/" rel="noopener noreferrer nofollow">https://ada.example/</a>' in html
    assert '<a href="mailto:ada@example.com">ada@example.com</a>' in html
    assert ">2024-07-02 08:30 Asia/Tokyo</time>" in html
    assert ">2024-07-01T23:30:00+00:00<" not in html
    assert ">1815-12-10<" in html
    assert ">Yes<" in html
    assert ">Date and time<" in html
    assert ">URL<" in html


def test_a_stored_url_that_is_not_http_is_never_a_link(portal_staff_client, merchant):
    customer = CustomerFactory(merchant=merchant)
    CustomFieldFactory(customer=customer, name="site", type="url", value="javascript:alert(1)")

    html = portal_staff_client.get(f"/portal/customers/{customer.pk}/").content.decode()

    assert 'href="javascript' not in html
    assert "javascript:alert(1)" in html


def test_a_wrong_date_and_time_is_explained_in_the_portals_format_and_zone(portal_staff_client, merchant, ada):
    merchant_set_time_zone(merchant=merchant, time_zone="Europe/London")
    rows = [{"name": "meeting", "type": "datetime", "value": "2024-07-01"}]

    response = portal_staff_client.post(f"/portal/customers/{ada.pk}/edit/", edit_post(ada, rows))

    assert response.status_code == 400
    assert response.context["formset"].forms[0].errors["value"] == [
        "Must be a date and time as YYYY-MM-DD HH:MM (Europe/London time), for example 2024-05-31 14:30."
    ]
