"""Reads of customers, always scoped to one merchant."""

import base64
import binascii
import dataclasses
import datetime
import json
import uuid

from django.core.exceptions import ValidationError
from django.db.models import Exists, OuterRef, Prefetch, Q, QuerySet, Value
from django.db.models.functions import Lower

from core.ids import parse_uuid
from customers.models import Customer, CustomerExport, CustomerImport, CustomField
from customers.search import fold, search_condition
from customers.sql import customer_with_custom_fields
from merchants.models import Merchant

MAX_PAGE_SIZE = 100
DEFAULT_PAGE_SIZE = 20


@dataclasses.dataclass(frozen=True)
class CustomerFilters:
    email: str | None = None
    q: str | None = None
    company: str | None = None
    reference: str | None = None
    address_country: str | None = None
    created_after: datetime.datetime | None = None
    created_before: datetime.datetime | None = None
    custom_fields: tuple[tuple[str, str], ...] = ()


@dataclasses.dataclass(frozen=True)
class CustomerPage:
    customers: list[Customer]
    has_more: bool
    next_cursor: str | None


def customer_import_get(*, merchant: Merchant, import_id) -> CustomerImport:
    """The merchant's import; CustomerImport.DoesNotExist for a malformed, unknown or foreign id."""
    pk = parse_uuid(import_id)
    if pk is None:
        raise CustomerImport.DoesNotExist
    return CustomerImport.objects.get(merchant=merchant, pk=pk)


def customer_imports_recent(*, merchant: Merchant, limit: int = 10) -> list[CustomerImport]:
    return list(CustomerImport.objects.filter(merchant=merchant).select_related("created_by")[:limit])


def customer_export_get(*, merchant: Merchant, export_id) -> CustomerExport:
    """The merchant's export; CustomerExport.DoesNotExist for a malformed, unknown or foreign id."""
    pk = parse_uuid(export_id)
    if pk is None:
        raise CustomerExport.DoesNotExist
    return CustomerExport.objects.get(merchant=merchant, pk=pk)


def customer_exports_recent(*, merchant: Merchant, limit: int = 10) -> list[CustomerExport]:
    return list(CustomerExport.objects.filter(merchant=merchant).select_related("created_by")[:limit])


def _with_custom_fields(customers: QuerySet[Customer]) -> QuerySet[Customer]:
    return customers.prefetch_related(Prefetch("custom_fields", to_attr="loaded_custom_fields"))


def customer_get(*, merchant: Merchant, customer_id: str | uuid.UUID) -> Customer:
    """The merchant's customer, with custom fields; Customer.DoesNotExist for anything else.

    An unknown id, a malformed id and another merchant's id are the same miss.
    """
    pk = parse_uuid(customer_id)
    customer = None if pk is None else customer_with_custom_fields(merchant_id=merchant.pk, customer_id=pk)
    if customer is None:
        raise Customer.DoesNotExist
    return customer


def customer_queryset(
    *, merchant: Merchant, filters: CustomerFilters | None = None, oldest_first: bool = False
) -> QuerySet[Customer]:
    """The merchant's customers matching `filters`, newest first (or oldest first)."""
    qs = Customer.objects.for_merchant(merchant)
    f = filters or CustomerFilters()
    if f.email:
        # Lower() on both sides so the database's own case folding matches the
        # (merchant, lower(email)) index.
        qs = qs.alias(email_ci=Lower("email")).filter(email_ci=Lower(Value(f.email.strip())))
    if f.q:
        condition = search_condition(f.q)
        if condition is not None:
            qs = qs.filter(condition)
    if f.company:
        qs = qs.filter(company_key=fold(f.company))
    if f.reference:
        qs = qs.filter(reference=f.reference)
    if f.address_country:
        qs = qs.filter(address_country=f.address_country.strip().upper())
    if f.created_after:
        qs = qs.filter(created_at__gte=f.created_after)
    if f.created_before:
        qs = qs.filter(created_at__lt=f.created_before)
    for name, value in f.custom_fields:
        qs = qs.filter(
            Exists(CustomField.objects.filter(merchant=merchant, name=name, value=value, customer=OuterRef("pk")))
        )
    if oldest_first:
        return qs.order_by("created_at", "customer_id")
    return qs.order_by("-created_at", "-customer_id")


def _encode_cursor(customer: Customer) -> str:
    raw = json.dumps([customer.created_at.isoformat(), str(customer.customer_id)]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime.datetime, uuid.UUID]:
    """Raises ValidationError(field 'cursor') for anything that is not one of our cursors."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        created, pk = json.loads(raw)
        when = datetime.datetime.fromisoformat(created)
        if when.tzinfo is None:
            raise ValueError
        # In UTC: PostgreSQL refuses offsets beyond 15:59 that Python accepts.
        return when.astimezone(datetime.UTC), uuid.UUID(pk)
    except (ValueError, TypeError, OverflowError, binascii.Error, UnicodeDecodeError):
        raise ValidationError(
            {"cursor": ValidationError("Invalid or expired cursor.", code="invalid_cursor")}
        ) from None


def customer_list(
    *,
    merchant: Merchant,
    filters: CustomerFilters | None = None,
    cursor: str | None = None,
    limit: int = DEFAULT_PAGE_SIZE,
    oldest_first: bool = False,
) -> CustomerPage:
    """One page of customers, newest (or oldest) first, by keyset pagination.

    The cursor holds the (created_at, customer_id) of the last row shown, so any
    page costs what the first one does: no OFFSET, no COUNT.
    """
    qs = customer_queryset(merchant=merchant, filters=filters, oldest_first=oldest_first)
    if cursor:
        created, pk = decode_cursor(cursor)
        if oldest_first:
            qs = qs.filter(Q(created_at__gt=created) | Q(created_at=created, customer_id__gt=pk))
        else:
            qs = qs.filter(Q(created_at__lt=created) | Q(created_at=created, customer_id__lt=pk))
    rows = list(_with_custom_fields(qs)[: limit + 1])
    has_more = len(rows) > limit
    rows = rows[:limit]
    return CustomerPage(
        customers=rows, has_more=has_more, next_cursor=_encode_cursor(rows[-1]) if has_more and rows else None
    )


@dataclasses.dataclass(frozen=True)
class CappedCount:
    """A count that stops at a cap: `more` says there are more than `value` rows."""

    value: int
    more: bool


def customer_count_capped(
    *, merchant: Merchant, created_after: datetime.datetime | None = None, cap: int = 10_000
) -> CappedCount:
    """How many customers the merchant has (created since `created_after`), counted up to `cap`.

    Never a COUNT(*) over a huge merchant: at most cap + 1 entries of the (merchant, created) index are read.
    """
    customers = Customer.objects.filter(merchant=merchant)
    if created_after is not None:
        customers = customers.filter(created_at__gte=created_after)
    counted = customers.order_by()[: cap + 1].count()
    return CappedCount(value=min(counted, cap), more=counted > cap)


def customer_imports_running_count(*, merchant: Merchant) -> int:
    """The merchant's imports queued or running."""
    unfinished = (CustomerImport.Status.QUEUED, CustomerImport.Status.RUNNING)
    return CustomerImport.objects.filter(merchant=merchant, status__in=unfinished).count()
