"""Hand-written SQL, and only where measured (bench/hot_paths.py): each read equals the ORM's own answer.

core/sql.py loads rows as the ORM would; merchants/sql.py, customers/sql.py and events/sql.py
are the three reads it serves; core/bulk_insert.py writes rows as the ORM would (defaults, database
defaults, generated columns, each field's own conversion), on SQLite and PostgreSQL alike.
"""

import hashlib
import uuid

import pytest
from django.db import IntegrityError, connection, models, transaction
from django.db.models import Prefetch
from django.test.utils import isolate_apps
from django.utils import timezone
from oauth2_provider.models import get_access_token_model

from core.bulk_insert import Insert, PrimaryKeyOf, insert_all, insert_rows
from core.sql import column_list, concrete_attnames, fetch_all, model_from_row
from customers.models import Customer, CustomField
from customers.services import customer_create
from customers.sql import customer_with_custom_fields
from events.models import CustomerEvent, EventDelivery, WebhookEndpoint
from events.sql import active_endpoint_events
from merchants.sql import access_token_lookup
from tests.credentials import fetch_token
from tests.factories import CustomerFactory


def select(model, attnames, pk):
    table = connection.ops.quote_name(model._meta.db_table)
    pk_column = connection.ops.quote_name(model._meta.pk.column)
    statement = f"SELECT {column_list(model, attnames)} FROM {table} WHERE {pk_column} = %s"  # noqa: S608
    return fetch_all(statement, [model._meta.pk.get_db_prep_value(pk, connection)])[0]


def test_a_row_loads_into_the_same_values_as_the_orm_gives_in_any_column_order(merchant):
    stored = CustomerFactory(merchant=merchant, email="ada@example.com", address_country="GBR")
    expected = Customer.objects.get(pk=stored.pk)

    for attnames in (concrete_attnames(Customer), tuple(reversed(concrete_attnames(Customer)))):
        loaded = model_from_row(Customer, attnames, select(Customer, attnames, stored.pk))

        for name in concrete_attnames(Customer):
            assert getattr(loaded, name) == getattr(expected, name), name
            assert type(getattr(loaded, name)) is type(getattr(expected, name)), name
        assert loaded._state.adding is False
        assert loaded._state.db == "default"


def test_fields_left_out_of_the_select_are_deferred_and_load_on_access(merchant):
    stored = CustomerFactory(merchant=merchant, firstname="Ada", email="ada@example.com")

    loaded = model_from_row(Customer, ("email", "customer_id"), select(Customer, ("email", "customer_id"), stored.pk))

    assert loaded.get_deferred_fields() >= {"firstname", "merchant_id"}
    assert loaded.email == "ada@example.com"
    assert loaded.firstname == "Ada"


def test_the_token_lookup_loads_the_token_its_client_and_its_merchant_with_real_types(issued_client):
    raw = fetch_token(issued_client.client.client_id, issued_client.client_secret)["access_token"]

    token = access_token_lookup(token=raw)

    assert token.application.pk == issued_client.client.pk
    assert token.application.client_id == issued_client.client.client_id
    assert token.application.merchant == issued_client.client.merchant
    assert token.application.merchant.pk == issued_client.client.merchant.pk
    assert token.application.merchant.is_active is True
    assert token.is_expired() is False
    assert access_token_lookup(token=raw + "x") is None


def test_insert_all_returns_the_new_primary_keys_in_the_order_of_the_rows(merchant):
    customer = CustomerFactory(merchant=merchant)
    rows = [(customer.pk, merchant.pk, f"f{i}", "integer", str(i), i) for i in (3, 1, 2)]

    [pks] = insert_all([Insert(CustomField, ("customer", "merchant", "name", "type", "value", "position"), rows)])

    assert [CustomField.objects.get(pk=pk).name for pk in pks] == ["f3", "f1", "f2"]
    assert insert_all([Insert(CustomField, ("customer", "name"), [])]) == [[]]


def test_insert_all_returns_each_inserts_keys_and_fills_references_with_the_earlier_rows_key(merchant):
    customer = CustomerFactory(merchant=merchant)
    now = timezone.now()
    event = Insert(
        CustomerEvent,
        ("event_id", "merchant", "customer_id", "type", "payload", "created_at"),
        [(uuid.uuid4(), merchant.pk, customer.pk, "customer.updated", {"a": 1}, now)],
    )
    no_fields = Insert(CustomField, ("customer", "name", "type", "value", "position"), [])
    deliveries = Insert(
        EventDelivery,
        ("event", "destination", "endpoint", "next_attempt_at", "created_at"),
        [(PrimaryKeyOf(0), "gateway", None, now, now), (PrimaryKeyOf(0), "webhook", None, now, now)],
    )

    (event_pk,), no_keys, delivery_pks = insert_all([event, no_fields, deliveries])

    assert no_keys == []
    assert CustomerEvent.objects.get(pk=event_pk).payload == {"a": 1}
    stored = [EventDelivery.objects.get(pk=pk) for pk in delivery_pks]
    assert [(d.event_id, d.destination, d.status, d.attempts) for d in stored] == [
        (event_pk, "gateway", "pending", 0),
        (event_pk, "webhook", "pending", 0),
    ]


@pytest.mark.django_db(transaction=True)
def test_insert_all_writes_nothing_when_a_later_insert_fails(merchant):
    customer = CustomerFactory(merchant=merchant)
    columns = ("customer", "merchant", "name", "type", "value", "position")
    good = Insert(CustomField, columns, [(customer.pk, merchant.pk, "a", "string", "x", 0)])
    bad = Insert(CustomField, columns, [(customer.pk, merchant.pk, None, "string", "y", 1)])

    with pytest.raises(IntegrityError):
        insert_all([good, bad])

    assert not CustomField.objects.exists()


# --- each hand-written read against the ORM ------------------------------------------------------


def _values(instance) -> dict:
    return {field.attname: getattr(instance, field.attname) for field in type(instance)._meta.concrete_fields}


def test_a_customer_with_its_custom_fields_is_what_the_orm_reads(merchant, other_merchant):
    stored = CustomerFactory(merchant=merchant, firstname="Ada", email="ada@example.com", address_country="GBR")
    for position, name in [(2, "b"), (0, "c"), (1, "a")]:
        CustomField.objects.create(
            customer=stored, merchant=merchant, name=name, type="integer", value=str(position), position=position
        )
    expected = (
        Customer.objects.filter(merchant=merchant)
        .prefetch_related(Prefetch("custom_fields", to_attr="loaded_custom_fields"))
        .get(pk=stored.pk)
    )

    loaded = customer_with_custom_fields(merchant_id=merchant.pk, customer_id=stored.pk)

    assert _values(loaded) == _values(expected)
    assert [_values(f) for f in loaded.loaded_custom_fields] == [_values(f) for f in expected.loaded_custom_fields]
    assert [f.name for f in loaded.custom_field_list] == ["c", "a", "b"]
    assert customer_with_custom_fields(merchant_id=other_merchant.pk, customer_id=stored.pk) is None
    assert customer_with_custom_fields(merchant_id=merchant.pk, customer_id=uuid.uuid4()) is None


def test_the_active_endpoints_of_a_merchant_are_what_the_orm_reads(merchant, other_merchant):
    for index, (owner, active, events) in enumerate(
        [
            (merchant, True, ["customer.created"]),
            (merchant, False, ["customer.created"]),
            (merchant, True, ["customer.updated", "customer.deleted"]),
            (other_merchant, True, ["customer.created"]),
        ]
    ):
        WebhookEndpoint.objects.create(
            merchant=owner,
            url=f"https://hooks{index}.example.com/",
            enabled_events=events,
            is_active=active,
            secret="s",
        )
    expected = list(
        WebhookEndpoint.objects.filter(merchant=merchant, is_active=True)
        .order_by("pk")
        .values_list("pk", "enabled_events")
    )

    assert active_endpoint_events(merchant_id=merchant.pk) == expected
    assert len(expected) == 2


def test_the_token_lookup_is_what_the_orm_reads(issued_client):
    raw = fetch_token(issued_client.client.client_id, issued_client.client_secret)["access_token"]
    expected = (
        get_access_token_model()
        .objects.select_related("application__merchant")
        .get(token_checksum=hashlib.sha256(raw.encode()).hexdigest())
    )

    token = access_token_lookup(token=raw)

    for name in ("id", "expires", "scope", "application_id"):
        assert getattr(token, name) == getattr(expected, name), name
    for name in ("id", "client_id", "merchant_id"):
        assert getattr(token.application, name) == getattr(expected.application, name), name
    assert _values(token.application.merchant) == _values(expected.application.merchant)


# --- writes: defaults of every kind, and each field's own conversion ------------------------------


class ReversedText(models.CharField):
    """A field that converts on the way in and out (as field-level encryption would): stores the text reversed."""

    def get_db_prep_value(self, value, connection, prepared=False):
        value = super().get_db_prep_value(value, connection, prepared)
        return value[::-1] if isinstance(value, str) else value

    def from_db_value(self, value, expression, connection):
        return value[::-1] if isinstance(value, str) else value


@pytest.fixture
def gadget_model(transactional_db):
    """A model with a database default, a generated column, a Python default and a converting field."""
    with isolate_apps("core"):

        class Gadget(models.Model):
            name = models.CharField(max_length=20)
            size = models.IntegerField(db_default=7)
            label = models.CharField(max_length=20, default="plain")
            doubled = models.GeneratedField(
                expression=models.F("size") * 2, output_field=models.IntegerField(), db_persist=True
            )
            secret = ReversedText(max_length=20, default="")

            class Meta:
                app_label = "core"
                db_table = "test_gadget"

            def __str__(self) -> str:
                return self.name

        with connection.schema_editor() as editor:
            editor.create_model(Gadget)
        try:
            yield Gadget
        finally:
            with connection.schema_editor() as editor:
                editor.delete_model(Gadget)


def _stored_secret(model) -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT secret FROM {model._meta.db_table} ORDER BY name")  # noqa: S608
        return [row[0] for row in cursor.fetchall()]


@pytest.mark.parametrize("writer", ["insert_all", "insert_rows"])
def test_the_writers_leave_database_defaults_and_generated_columns_to_the_database(gadget_model, writer):
    rows = Insert(gadget_model, ("name", "secret"), [("a", "abc"), ("b", "xyz")])

    with transaction.atomic():
        insert_all([rows]) if writer == "insert_all" else insert_rows(rows)

    stored = list(gadget_model.objects.order_by("name").values_list("name", "size", "label", "doubled", "secret"))
    assert stored == [("a", 7, "plain", 14, "abc"), ("b", 7, "plain", 14, "xyz")]
    assert _stored_secret(gadget_model) == ["cba", "zyx"]  # through the field's own conversion, on every database


def test_writing_a_generated_column_is_refused_before_anything_is_sent(gadget_model):
    with pytest.raises(ValueError, match="generated by the database"):
        insert_all([Insert(gadget_model, ("name", "doubled"), [("a", 3)])])

    assert not gadget_model.objects.exists()


def test_a_created_customer_is_the_instance_the_orm_would_load(merchant, django_assert_num_queries):
    customer = customer_create(merchant=merchant, data={"firstname": "Ada", "options": {"custom_fields": [
        {"name": "tier", "type": "integer", "value": 3}]}})  # fmt: skip
    expected = Customer.objects.get(pk=customer.pk)
    expected_fields = [_values(f) for f in expected.custom_fields.all()]

    with django_assert_num_queries(0):
        assert _values(customer) == _values(expected)
        assert [_values(f) for f in customer.custom_field_list] == expected_fields
        assert customer.merchant == merchant
    assert customer.get_deferred_fields() == set()
