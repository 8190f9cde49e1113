"""Hand-written SQL on the hot paths: config/sql.py loads rows as the ORM would; bulk_insert writes them."""

import uuid

import pytest
from django.db import IntegrityError, connection
from django.utils import timezone

from core.bulk_insert import Insert, PrimaryKeyOf, insert_all
from core.sql import column_list, concrete_attnames, fetch_all, model_from_row
from customers.models import Customer, CustomField
from events.models import CustomerEvent, EventDelivery
from merchants.selectors import access_token_lookup
from tests.conftest import fetch_token
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
    rows = [(customer.pk, f"f{i}", "integer", str(i), i) for i in (3, 1, 2)]

    [pks] = insert_all([Insert(CustomField, ("customer", "name", "type", "value", "position"), rows)])

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
    good = Insert(
        CustomField, ("customer", "name", "type", "value", "position"), [(customer.pk, "a", "string", "x", 0)]
    )
    bad = Insert(
        CustomField, ("customer", "name", "type", "value", "position"), [(customer.pk, None, "string", "y", 1)]
    )

    with pytest.raises(IntegrityError):
        insert_all([good, bad])

    assert not CustomField.objects.exists()
