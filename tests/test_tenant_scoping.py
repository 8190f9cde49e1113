"""Tenant scoping by construction: a merchant's rows answer only inside that merchant's scope."""

import pytest
from django.db import connection
from django.http import HttpResponse
from django.test import RequestFactory
from django_scopes import ScopeError, scope, scopes_disabled

from api.models import IdempotencyRecord
from audit.models import AuditEntry
from core.middleware import TenantScopeMiddleware
from core.scoping import merchant_scope
from customers.models import Customer, CustomerImport, CustomField
from customers.services import customer_create
from events.models import CustomerEvent, EventDelivery, WebhookEndpoint
from merchants.models import MerchantMembership, OAuthClient

MERCHANT_OWNED = [
    Customer,
    CustomField,
    CustomerImport,
    CustomerEvent,
    EventDelivery,
    WebhookEndpoint,
    AuditEntry,
    IdempotencyRecord,
    OAuthClient,
    MerchantMembership,
]


@pytest.mark.parametrize("model", MERCHANT_OWNED, ids=lambda model: model.__name__)
def test_no_merchant_owned_model_answers_a_query_without_a_merchant_in_scope(db, model):
    with scope(), pytest.raises(ScopeError):
        list(model.objects.all())


def test_inside_a_merchants_scope_only_its_rows_answer(merchant, other_merchant):
    ours = customer_create(merchant=merchant, data={"firstname": "Ada", "options": {"custom_fields": [
        {"name": "tier", "value": "1"}]}})  # fmt: skip
    customer_create(merchant=other_merchant, data={"firstname": "Grace", "options": {"custom_fields": [
        {"name": "tier", "value": "2"}]}})  # fmt: skip

    with merchant_scope(merchant):
        assert list(Customer.objects.values_list("pk", flat=True)) == [ours.pk]
        assert list(CustomField.objects.values_list("value", flat=True)) == ["1"]
        assert {event.customer_id for event in CustomerEvent.objects.all()} == {ours.pk}
        assert {delivery.event.customer_id for delivery in EventDelivery.objects.select_related("event")} == {ours.pk}
        assert list(AuditEntry.objects.values_list("customer_id", flat=True)) == [ours.pk]
        assert not Customer.objects.filter(firstname="Grace").exists()


def test_a_merchant_scope_needs_a_merchant(db):
    # django-scopes reads a None dimension as "every merchant": refused.
    with pytest.raises(ValueError, match="needs a saved merchant"):
        merchant_scope(None).__enter__()


def test_every_request_starts_with_no_merchant_in_scope_whatever_came_before(merchant):
    seen = []

    def view(request):
        try:
            list(Customer.objects.all())
        except ScopeError:
            seen.append("refused")
        return HttpResponse()

    with scopes_disabled():  # as a caller that had opted out (a test, a command) would be
        TenantScopeMiddleware(view)(RequestFactory().get("/"))

    assert seen == ["refused"]


@pytest.mark.postgres_only
def test_a_test_marked_postgres_only_runs_on_postgresql_alone():
    # On SQLite the mark skips it by itself (conftest.py); before, it ran and failed there.
    assert connection.vendor == "postgresql"
