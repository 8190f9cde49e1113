"""Erasure (issue 6): after a customer is deleted, no copy of its personal data is left in any table.

Each door creates, changes and deletes its own customer; then every text, varchar and
JSON column of every table is searched for the customers' emails and custom field values.
"""

from pathlib import Path

import pytest
from django.db import connection

from customers.models import Customer
from tests.api_helpers import URL, detail_url, send
from tests.db_scan import columns_holding
from tests.form_helpers import customer_post, form_data, upload
from tests.jobs import run_jobs

MARKER = "erasure-probe"


def email(door: str) -> str:
    return f"{MARKER}-{door}@example.com"


def secret(door: str) -> str:
    return f"{MARKER}-secret-{door}"


def test_the_scan_finds_a_live_customers_email_and_custom_field(merchant, api_client):
    send(
        api_client,
        "post",
        URL,
        {
            "firstname": "Ada",
            "email": email("live"),
            "options": {"custom_fields": [{"name": "note", "value": secret("live")}]},
        },
    )

    assert "customers_customer.email" in columns_holding(email("live"))
    assert "customers_customfield.value" in columns_holding(secret("live"))


def test_no_copy_of_a_deleted_customers_data_remains_in_any_table(
    merchant, api_client, portal_staff_client, admin_site_client, django_capture_on_commit_callbacks
):
    def api_body(door):
        return {
            "firstname": "Ada",
            "email": email(door),
            "reference": f"{MARKER}-ref-{door}",
            "address": {"line1": f"{MARKER} street {door}", "city": f"{MARKER} city"},
            "options": {"custom_fields": [{"name": "note", "value": secret(door)}]},
        }

    # API: single create and bulk create, each with an Idempotency-Key (stored replays), then a patch.
    api = send(api_client, "post", URL, api_body("api"), HTTP_IDEMPOTENCY_KEY="erasure-1").json()
    bulk = send(api_client, "post", f"{URL}/bulk", {"customers": [api_body("bulk")]}, HTTP_IDEMPOTENCY_KEY="erasure-2")
    assert bulk.status_code == 207, bulk.content
    bulk_id = Customer.objects.get(email=email("bulk")).pk
    patched = send(
        api_client,
        "patch",
        detail_url(api["customer_id"]),
        {"lastname": "Lovelace", "company": secret("api-co")},
        HTTP_IDEMPOTENCY_KEY="erasure-3",
    )
    assert patched.status_code == 200, patched.content

    # Portal: create, then edit.
    response = portal_staff_client.post(
        "/portal/customers/new/",
        form_data(
            firstname="Grace",
            email=email("portal"),
            reference=f"{MARKER}-ref-portal",
            address_line1=f"{MARKER} street portal",
            **{"cf-0-name": "note", "cf-0-value": secret("portal")},
        ),
    )
    assert response.status_code == 302, response.content
    portal = Customer.objects.get(email=email("portal"))
    response = portal_staff_client.post(
        f"/portal/customers/{portal.pk}/edit/",
        form_data(
            firstname="Grace",
            lastname="Hopper",
            email=email("portal"),
            version="1",
            **{"cf-0-name": "note", "cf-0-value": secret("portal-2")},
        ),
    )
    assert response.status_code == 302, response.content

    # Portal CSV import.
    with django_capture_on_commit_callbacks(execute=True):
        upload(
            portal_staff_client,
            f"firstname,email,reference,address_line1,note\r\n"
            f"Alan,{email('import')},{MARKER}-ref-import,{MARKER} street import,{secret('import')}\r\n",
        )
    run_jobs()
    imported = Customer.objects.get(email=email("import"))

    # Admin: add (email only, so the admin history names it by its email), then change.
    response = admin_site_client.post(
        "/admin/customers/customer/add/",
        customer_post(
            merchant,
            rows=[{"name": "note", "type": "string", "value": secret("admin")}],
            email=email("admin"),
            reference=f"{MARKER}-ref-admin",
            address_line1=f"{MARKER} street admin",
        ),
    )
    assert response.status_code == 302, response.content
    admin_customer = Customer.objects.get(email=email("admin"))
    response = admin_site_client.post(
        f"/admin/customers/customer/{admin_customer.pk}/change/",
        customer_post(
            rows=[{"name": "note", "type": "string", "value": secret("admin-2")}],
            lastname="Dijkstra",
            email=email("admin"),
        ),
    )
    assert response.status_code == 302, response.content
    # The API and portal customers are changed in admin too, so admin history exists for them.
    for customer in (Customer.objects.get(pk=api["customer_id"]), portal):
        response = admin_site_client.post(
            f"/admin/customers/customer/{customer.pk}/change/",
            customer_post(
                firstname="Changed",
                email=customer.email,
                based_on_version=str(Customer.objects.get(pk=customer.pk).version),
            ),
        )
        assert response.status_code == 302, response.content
    assert columns_holding(MARKER)  # the scan sees the live customers

    # Delete through each door.
    assert api_client.delete(detail_url(api["customer_id"])).status_code == 204
    assert api_client.delete(detail_url(bulk_id)).status_code == 204
    assert portal_staff_client.post(f"/portal/customers/{portal.pk}/delete/", follow=True).status_code == 200
    assert portal_staff_client.post(f"/portal/customers/{imported.pk}/delete/", follow=True).status_code == 200
    response = admin_site_client.post(
        f"/admin/customers/customer/{admin_customer.pk}/delete/", {"post": "yes"}, follow=True
    )
    assert response.status_code == 200

    assert not Customer.objects.exists()
    assert columns_holding(MARKER) == []


def test_no_copy_of_a_deleted_customers_phone_address_or_reference_remains(merchant, api_client):
    body = {
        "firstname": "Ada",
        "phone": "+44 20 7183 8750",
        "address": {"line1": f"{MARKER} 10 Downing Street", "city": "London", "postal_code": "SW1A 2AA"},
        "address_country": "GBR",
        "reference": f"{MARKER}-ref",
    }
    created = send(api_client, "post", URL, body, HTTP_IDEMPOTENCY_KEY="erasure-profile").json()
    patched = send(api_client, "patch", detail_url(created["customer_id"]), {"address": {"city": "Westminster"}})
    assert patched.status_code == 200, patched.content
    assert "customers_customer.phone" in columns_holding("442071838750")
    assert "customers_customer.search_text" in columns_holding("02071838750")
    assert "customers_customer.address_line1" in columns_holding(f"{MARKER} 10 Downing")
    assert "customers_customerevent.payload" in columns_holding("Westminster")

    assert api_client.delete(detail_url(created["customer_id"])).status_code == 204

    for trace in ("2071838750", MARKER, "Westminster", "SW1A 2AA"):
        assert columns_holding(trace) == [], trace


@pytest.mark.django_db(transaction=True)
def test_on_sqlite_a_deleted_customers_email_is_gone_from_the_database_file_and_its_wal(merchant, api_client):
    if connection.vendor != "sqlite":
        pytest.skip("SQLite's own file and write-ahead log; PostgreSQL's erasure is the table scan above")
    created = send(
        api_client,
        "post",
        URL,
        {
            "firstname": "Ada",
            "email": email("file"),
            "options": {"custom_fields": [{"name": "n", "value": secret("file")}]},
        },
        HTTP_IDEMPOTENCY_KEY="erasure-file",
    ).json()
    send(api_client, "patch", detail_url(created["customer_id"]), {"lastname": "Lovelace"})
    path = Path(connection.settings_dict["NAME"])

    def on_disk() -> bytes:
        return b"".join(p.read_bytes() for p in (path, Path(f"{path}-wal")) if p.exists())

    assert email("file").encode() in on_disk()  # the probe can see it while the customer lives

    assert send(api_client, "delete", detail_url(created["customer_id"])).status_code == 204

    assert email("file").encode() not in on_disk()
    assert secret("file").encode() not in on_disk()
