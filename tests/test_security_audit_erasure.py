"""The audit trail of every door, and erasure: after a delete no copy of the customer's data is left.

The erasure tests scan every column of every table in the database (found by
introspection, on SQLite and PostgreSQL alike) for the customer's email and
last name, after the customer was created, changed, read, exported and
deleted through the API, the portal and admin.
"""

import pytest
from django.contrib.admin.models import LogEntry

from api.models import IdempotencyRecord
from audit.models import AuditEntry
from customers.models import Customer
from events.models import CustomerEvent
from events.services import webhook_endpoint_create
from tests.db_scan import columns_holding
from tests.form_helpers import customer_post, form_data
from tests.jobs import portal_export

pytestmark = pytest.mark.django_db

CUSTOMERS = "/api/v1/customers"


def test_the_scan_finds_a_customer_wherever_it_is(api_client):
    """The erasure tests prove something only if the scan sees data where it is."""
    api_client.post(CUSTOMERS, {"email": "findme@example.org", "lastname": "Quxbarfoo"}, format="json")

    found = columns_holding("findme@example.org")

    assert "customers_customer.email" in found
    assert "customers_customerevent.payload" in found
    assert "customers_customer.lastname" in columns_holding("Quxbarfoo")


@pytest.fixture
def webhook(merchant):
    """A webhook endpoint, so events queue deliveries that hold the customer's data until sent."""
    return webhook_endpoint_create(merchant=merchant, data={"url": "https://hooks.example.com/in"})


def assert_erased(*texts: str) -> None:
    for text in texts:
        assert columns_holding(text) == [], f"a copy of {text!r} is left"


# --- erasure through each door ---------------------------------------------------------------------------------


def test_deleting_through_the_api_leaves_no_copy_anywhere(api_client, merchant, webhook):
    body = {
        "firstname": "Erin",
        "lastname": "Apiwipe",
        "email": "erin.api@example.org",
        "options": {"custom_fields": [{"name": "backup_email", "type": "email", "value": "erin.api@example.org"}]},
    }
    created = api_client.post(CUSTOMERS, body, format="json", HTTP_IDEMPOTENCY_KEY="key-1")
    customer_id = created.json()["customer_id"]
    url = f"{CUSTOMERS}/{customer_id}"
    api_client.patch(url, {"company": "Apiwipe Ltd"}, format="json", HTTP_IDEMPOTENCY_KEY="key-2")
    api_client.put(url, {**body, "company": "Apiwipe Two"}, format="json", HTTP_IDEMPOTENCY_KEY="key-3")
    api_client.get(url)
    api_client.get(CUSTOMERS, {"email": "erin.api@example.org"})
    assert columns_holding("erin.api@example.org")  # it was there

    assert api_client.delete(url, HTTP_IDEMPOTENCY_KEY="key-4").status_code == 204

    assert_erased("erin.api@example.org", "Apiwipe", "Erin")
    assert IdempotencyRecord.objects.filter(key="key-1").exists()  # the key stays, its data does not
    assert CustomerEvent.objects.filter(customer_id=customer_id, type="customer.deleted").exists()


def test_deleting_through_the_portal_leaves_no_copy_anywhere(
    portal_admin_client, merchant, webhook, django_capture_on_commit_callbacks
):
    created = portal_admin_client.post(
        "/portal/customers/new/",
        form_data(
            firstname="Paula",
            lastname="Portalwipe",
            email="paula.portal@example.org",
            **{"cf-0-name": "backup_email", "cf-0-type": "email", "cf-0-value": "paula.portal@example.org"},
        ),
    )
    assert created.status_code == 302, created.content[:500]
    customer = Customer.objects.get(email="paula.portal@example.org")
    edited = portal_admin_client.post(
        f"/portal/customers/{customer.pk}/edit/",
        form_data(firstname="Paula", lastname="Portalwipe", email="paula.portal@example.org", company="Wipe Co"),
    )
    assert edited.status_code == 302
    portal_admin_client.get(f"/portal/customers/{customer.pk}/")
    b"".join(portal_export(portal_admin_client, django_capture_on_commit_callbacks).streaming_content)

    deleted = portal_admin_client.post(f"/portal/customers/{customer.pk}/delete/")

    assert deleted.status_code == 302
    assert not Customer.objects.filter(pk=customer.pk).exists()
    assert_erased("paula.portal@example.org", "Portalwipe")


def test_deleting_through_admin_leaves_no_copy_even_in_admins_own_history(admin_site_client, merchant, webhook):
    added = admin_site_client.post(
        "/admin/customers/customer/add/",
        customer_post(
            merchant,
            rows=[{"name": "backup_email", "type": "email", "value": "otto.admin@example.org"}],
            firstname="Otto",
            lastname="Adminwipe",
            email="otto.admin@example.org",
        ),
    )
    assert added.status_code == 302, added.content[:500]
    customer = Customer.objects.get(email="otto.admin@example.org")
    changed = admin_site_client.post(
        f"/admin/customers/customer/{customer.pk}/change/",
        customer_post(firstname="Otto", lastname="Adminwipe", email="otto.admin@example.org", company="Adminwipe Inc"),
    )
    assert changed.status_code == 302, changed.content[:500]
    assert "customers_customer.lastname" in columns_holding("Adminwipe")
    assert "django_admin_log.object_repr" in columns_holding("Adminwipe")  # admin's history named it

    deleted = admin_site_client.post(f"/admin/customers/customer/{customer.pk}/delete/", {"post": "yes"})

    assert deleted.status_code == 302
    assert_erased("otto.admin@example.org", "Adminwipe")
    entries = LogEntry.objects.filter(object_id=str(customer.pk))
    assert entries.count() == 3  # added, changed, deleted: kept, by id only
    assert {entry.object_repr for entry in entries} == {str(customer.pk)}


def test_the_admin_bulk_delete_action_erases_too(admin_site_client, merchant):
    admin_site_client.post(
        "/admin/customers/customer/add/",
        customer_post(merchant, lastname="Bulkwipe", email="bulk.admin@example.org"),
    )
    customer = Customer.objects.get(email="bulk.admin@example.org")

    response = admin_site_client.post(
        "/admin/customers/customer/",
        {"action": "delete_selected", "_selected_action": [str(customer.pk)], "post": "yes"},
    )

    assert response.status_code == 302
    assert not Customer.objects.filter(pk=customer.pk).exists()
    assert_erased("bulk.admin@example.org", "Bulkwipe")


# --- the audit trail -------------------------------------------------------------------------------------------


def trail(customer_id) -> list[tuple[str, str, str, list[str]]]:
    return [
        (entry.action, entry.door, entry.actor, entry.changed_fields)
        for entry in AuditEntry.objects.filter(customer_id=customer_id).order_by("id")
    ]


def test_api_changes_are_audited_with_the_client_and_field_names_only(api_client, merchant):
    client_id = api_client.get(CUSTOMERS).wsgi_request.auth.application.client_id
    customer_id = api_client.post(
        CUSTOMERS,
        {"email": "audit.api@example.org", "options": {"custom_fields": [{"name": "tier", "value": "gold"}]}},
        format="json",
    ).json()["customer_id"]
    api_client.patch(f"{CUSTOMERS}/{customer_id}", {"lastname": "Audited"}, format="json")
    api_client.delete(f"{CUSTOMERS}/{customer_id}")

    actor = f"client:{client_id}"
    assert trail(customer_id) == [
        ("created", "api", actor, ["email", "options.custom_fields.tier"]),
        ("updated", "api", actor, ["lastname"]),
        ("deleted", "api", actor, []),
    ]
    assert "audit.api@example.org" not in str(trail(customer_id))
    assert "gold" not in str(trail(customer_id))


def test_portal_changes_are_audited_with_the_user(portal_admin_client, merchant):
    portal_admin_client.post("/portal/customers/new/", form_data(email="audit.portal@example.org"))
    customer = Customer.objects.get(email="audit.portal@example.org")
    portal_admin_client.post(
        f"/portal/customers/{customer.pk}/edit/", form_data(email="audit.portal@example.org", company="Co")
    )
    portal_admin_client.post(f"/portal/customers/{customer.pk}/delete/")

    user = portal_admin_client.user
    actor = f"user:{user.pk}:{user.get_username()}"
    assert trail(customer.pk) == [
        ("created", "portal", actor, ["email"]),
        ("updated", "portal", actor, ["company"]),
        ("deleted", "portal", actor, []),
    ]


def test_admin_changes_are_audited_with_the_operator(admin_site_client, merchant):
    admin_site_client.post("/admin/customers/customer/add/", customer_post(merchant, email="audit.admin@example.org"))
    customer = Customer.objects.get(email="audit.admin@example.org")
    admin_site_client.post(
        f"/admin/customers/customer/{customer.pk}/change/", customer_post(email="audit.admin@example.org", company="C")
    )
    admin_site_client.post(f"/admin/customers/customer/{customer.pk}/delete/", {"post": "yes"})

    actor = f"user:{admin_site_client.user.pk}:operator"
    assert trail(customer.pk) == [
        ("created", "admin", actor, ["email"]),
        ("updated", "admin", actor, ["company"]),
        ("deleted", "admin", actor, []),
    ]


def test_a_portal_admin_sees_a_customers_audit_trail_and_a_staff_member_does_not(
    portal_admin_client, portal_staff_client, merchant
):
    portal_admin_client.post("/portal/customers/new/", form_data(email="trail@example.org"))
    customer = Customer.objects.get(email="trail@example.org")
    page = f"/portal/customers/{customer.pk}/"

    shown_to_admin = portal_admin_client.get(page).content.decode()
    shown_to_staff = portal_staff_client.get(page).content.decode()

    assert "History" in shown_to_admin
    assert "Created by " in shown_to_admin
    assert " in the portal: email" in shown_to_admin
    assert "user:" not in shown_to_admin
    assert "History" not in shown_to_staff
    assert "trail@example.org" in shown_to_staff  # the customer itself is still shown


def test_admin_shows_one_customers_audit_trail_read_only(admin_site_client, api_client, merchant):
    customer_id = api_client.post(CUSTOMERS, {"email": "trail.admin@example.org"}, format="json").json()["customer_id"]
    api_client.patch(f"{CUSTOMERS}/{customer_id}", {"company": "Trail"}, format="json")
    other_id = api_client.post(CUSTOMERS, {"email": "other@example.org"}, format="json").json()["customer_id"]

    change_page = admin_site_client.get(f"/admin/customers/customer/{customer_id}/change/").content.decode()
    listing = admin_site_client.get(f"/admin/audit/auditentry/?customer_id={customer_id}")
    searched = admin_site_client.get(f"/admin/audit/auditentry/?q={customer_id}")

    assert f"/admin/audit/auditentry/?customer_id={customer_id}" in change_page
    assert "2 change(s)" in change_page
    assert listing.status_code == 200
    assert [str(e.customer_id) for e in listing.context["cl"].result_list] == [customer_id, customer_id]
    assert other_id not in listing.content.decode()
    assert [str(e.customer_id) for e in searched.context["cl"].result_list] == [customer_id, customer_id]
    assert admin_site_client.get("/admin/audit/auditentry/add/").status_code == 403
    entry = AuditEntry.objects.filter(customer_id=customer_id).first()
    assert admin_site_client.post(f"/admin/audit/auditentry/{entry.pk}/delete/", {"post": "yes"}).status_code == 403
