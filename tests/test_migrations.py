"""The redesign moved models between apps without moving data: an installation from before it keeps every row."""

import datetime
import uuid

import pytest
from django.core.management import call_command
from django.utils import timezone

BEFORE = [("customers", "0004_time_ordered_ids_and_fewer_indexes"), ("merchants", "0002_membership_invitations")]
AFTER = [
    ("customers", "0005_move_outbox_audit_idempotency"),
    ("api", "0001_initial"),
    ("audit", "0001_initial"),
    ("events", "0001_initial"),
]
MOVED = {
    "customerevent": "events",
    "eventdelivery": "events",
    "webhookendpoint": "events",
    "auditentry": "audit",
    "idempotencyrecord": "api",
}

pytestmark = pytest.mark.slow


@pytest.mark.django_db
def test_no_model_change_lacks_its_migration():
    call_command("makemigrations", "--check", "--dry-run", verbosity=0)


def test_an_installation_from_before_the_redesign_keeps_its_rows_and_permissions(migrator):
    old = migrator.apply_initial_migration(BEFORE).apps
    ContentType, Permission = old.get_model("contenttypes", "ContentType"), old.get_model("auth", "Permission")
    # As the installation had them: the moved models' content types still belong to customers.
    ContentType.objects.filter(app_label__in=set(MOVED.values())).delete()
    permission = Permission.objects.create(
        codename="change_eventdelivery",
        name="Can change event delivery",
        content_type=ContentType.objects.get_or_create(app_label="customers", model="eventdelivery")[0],
    )
    for model in MOVED:
        ContentType.objects.get_or_create(app_label="customers", model=model)
    merchant = old.get_model("merchants", "Merchant").objects.create(name="Acme")
    customer = old.get_model("customers", "Customer").objects.create(
        customer_id=uuid.uuid4(), merchant=merchant, firstname="Ada"
    )
    old.get_model("customers", "CustomField").objects.create(customer=customer, name="tier", value="3")
    endpoint = old.get_model("customers", "WebhookEndpoint").objects.create(
        merchant=merchant, url="https://hooks.example.com/", enabled_events=["customer.created"], secret="whsec_x"
    )
    event = old.get_model("customers", "CustomerEvent").objects.create(
        merchant=merchant, customer_id=customer.pk, type="customer.created", payload={"firstname": "Ada"}
    )
    old.get_model("customers", "EventDelivery").objects.create(event=event, destination="webhook", endpoint=endpoint)
    old.get_model("customers", "AuditEntry").objects.create(
        merchant=merchant, customer_id=customer.pk, action="created", door="api", actor="client:x", changed_fields=[]
    )
    old.get_model("customers", "IdempotencyRecord").objects.create(
        merchant=merchant, key="k", fingerprint="f", expires_at=timezone.now() + datetime.timedelta(hours=1)
    )

    new = migrator.apply_tested_migration(AFTER).apps

    assert new.get_model("customers", "Customer").objects.get().firstname == "Ada"
    assert new.get_model("customers", "CustomField").objects.get().value == "3"
    delivery = new.get_model("events", "EventDelivery").objects.select_related("event", "endpoint").get()
    assert (delivery.event.payload, delivery.endpoint.url) == ({"firstname": "Ada"}, "https://hooks.example.com/")
    assert new.get_model("audit", "AuditEntry").objects.get().actor == "client:x"
    assert new.get_model("api", "IdempotencyRecord").objects.get().key == "k"
    moved_types = new.get_model("contenttypes", "ContentType").objects.filter(model__in=MOVED)
    assert {(t.model, t.app_label) for t in moved_types} == set(MOVED.items())
    permission = new.get_model("auth", "Permission").objects.select_related("content_type").get(pk=permission.pk)
    assert permission.content_type.app_label == "events"


def test_existing_customers_are_found_by_search_after_the_search_migration(migrator):
    old = migrator.apply_initial_migration([("customers", "0006_durable_import_jobs")]).apps
    merchant = old.get_model("merchants", "Merchant").objects.create(name="Acme")
    Customer = old.get_model("customers", "Customer")
    emile = Customer.objects.create(
        customer_id=uuid.uuid4(), merchant=merchant, firstname="ÉMILE", lastname="Müller", company="Straße AG"
    )
    nameless = Customer.objects.create(customer_id=uuid.uuid4(), merchant=merchant, email="x@example.com")
    old.get_model("customers", "CustomField").objects.create(customer=emile, name="tier", value="3")

    new = migrator.apply_tested_migration([("customers", "0007_customer_search")]).apps

    Customer = new.get_model("customers", "Customer")
    assert Customer.objects.get(pk=emile.pk).search_text == " emile muller\n muller emile\n strasse ag"
    assert Customer.objects.get(pk=emile.pk).company_key == "strasse ag"
    assert (Customer.objects.get(pk=nameless.pk).search_text, Customer.objects.get(pk=nameless.pk).company_key) == (
        " x@example.com",
        None,
    )
    assert new.get_model("customers", "CustomField").objects.get().merchant_id == merchant.pk


def test_existing_customers_get_the_lists_sort_keys_from_the_sort_migration(migrator):
    old = migrator.apply_initial_migration([("customers", "0007_customer_search")]).apps
    merchant = old.get_model("merchants", "Merchant").objects.create(name="Acme")
    Customer = old.get_model("customers", "Customer")
    emile = Customer.objects.create(customer_id=uuid.uuid4(), merchant=merchant, firstname="ÉMILE", lastname="Müller")
    company = Customer.objects.create(customer_id=uuid.uuid4(), merchant=merchant, company="Straße AG")
    email = Customer.objects.create(customer_id=uuid.uuid4(), merchant=merchant, email="X@example.com")

    new = migrator.apply_tested_migration([("customers", "0009_list_order_indexes")]).apps

    keys = dict(new.get_model("customers", "Customer").objects.values_list("pk", "name_key"))
    emails = dict(new.get_model("customers", "Customer").objects.values_list("pk", "email_key"))
    assert keys == {emile.pk: "muller emile", company.pk: "strasse ag", email.pk: "x@example.com"}
    assert emails == {emile.pk: "1", company.pk: "1", email.pk: "0x@example.com"}
