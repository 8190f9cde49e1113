"""Reads of customers, always scoped to one merchant."""

import base64
import binascii
import dataclasses
import datetime
import json
import uuid

from django.core.exceptions import ValidationError
from django.db.models import Exists, F, OrderBy, OuterRef, Prefetch, Q, QuerySet, TextField, Value
from django.db.models.functions import Concat, Lower

from core.ids import parse_uuid
from core.paginators import query_row_estimate
from core.row_values import RowCompare
from customers.models import Customer, CustomerExport, CustomerImport, CustomField
from customers.search import fold, search_condition
from customers.sql import customer_with_custom_fields
from merchants.models import Merchant

MAX_PAGE_SIZE = 100
DEFAULT_PAGE_SIZE = 20
# Up to this many matching customers are counted exactly (a COUNT over a LIMIT); beyond it, estimated.
EXACT_COUNT_LIMIT = 10_000


@dataclasses.dataclass(frozen=True)
class CustomerSort:
    """An order of the list: a key column, then customer_id, both in the same direction, one index each."""

    key: str
    descending: bool

    def order_by(self) -> tuple[str, str]:
        sign = "-" if self.descending else ""
        return f"{sign}{self.key}", f"{sign}customer_id"

    def order_by_without_index(self) -> tuple[OrderBy, str]:
        """The same order, through an expression no index matches: the database finds the rows, then sorts them.

        For a search or filter with few matches in a sort they cluster in (search "smith", sorted by
        name): walking the sort's index until the page is full would read every row before the
        Smiths (EXPLAIN, 200,000 customers: 290 ms, against 2 ms through the search index and a sort).
        """
        key = Concat(F(self.key), Value(""), output_field=TextField())
        sign = "-" if self.descending else ""
        return (key.desc() if self.descending else key.asc()), f"{sign}customer_id"


# "newest" is the default and the API's only order. "name" and "email" order by the keys the services keep
# (customers.search.customer_sort_keys); the indexes are in Customer.Meta.
SORTS = {
    "newest": CustomerSort("created_at", descending=True),
    "oldest": CustomerSort("created_at", descending=False),
    "name": CustomerSort("name_key", descending=False),
    "email": CustomerSort("email_key", descending=False),
}
DEFAULT_SORT = "newest"


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
    # Only these customers (the portal's "Export selected"), still only the merchant's own.
    customer_ids: tuple[uuid.UUID, ...] = ()


@dataclasses.dataclass(frozen=True)
class CustomerPage:
    customers: list[Customer]
    has_more: bool
    next_cursor: str | None
    # The portal's "Previous page": a cursor of the first row shown, None on the first page.
    previous_cursor: str | None = None


@dataclasses.dataclass(frozen=True)
class CustomerTotal:
    count: int
    exact: bool  # False: at least EXACT_COUNT_LIMIT + 1, and `count` is PostgreSQL's estimate (or that floor)


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


def _sort_named(sort: str | None, oldest_first: bool) -> str:
    if sort is None:
        return "oldest" if oldest_first else DEFAULT_SORT
    if sort not in SORTS:
        raise ValueError(f"Unknown sort {sort!r}; one of {', '.join(SORTS)}.")
    return sort


def _filtered(merchant: Merchant, filters: CustomerFilters | None) -> QuerySet[Customer]:
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
    if f.customer_ids:
        # Ids are matched within the merchant's customers only: another merchant's id selects nothing.
        qs = qs.filter(customer_id__in=f.customer_ids)
    return qs


MAX_SELECTED = 1000


def customers_of(*, merchant: Merchant, customer_ids) -> list[Customer]:
    """The merchant's customers among `customer_ids` (at most MAX_SELECTED), in the list's default order.

    Malformed ids, unknown ids and other merchants' ids are left out, alike.
    """
    pks = {pk for pk in map(parse_uuid, list(customer_ids)[:MAX_SELECTED]) if pk is not None}
    if not pks:
        return []
    return list(customer_queryset(merchant=merchant, filters=CustomerFilters(customer_ids=tuple(pks))))


def customer_queryset(
    *, merchant: Merchant, filters: CustomerFilters | None = None, oldest_first: bool = False, sort: str | None = None
) -> QuerySet[Customer]:
    """The merchant's customers matching `filters` in the order `sort` names (one of SORTS; newest first).

    `oldest_first` is the older way of saying sort="oldest".
    """
    return _filtered(merchant, filters).order_by(*SORTS[_sort_named(sort, oldest_first)].order_by())


def customer_total(*, merchant: Merchant, filters: CustomerFilters | None = None) -> CustomerTotal:
    """How many of the merchant's customers match `filters`, never counting more than EXACT_COUNT_LIMIT + 1 rows.

    One capped COUNT; past the cap, on PostgreSQL, one EXPLAIN more for the planner's estimate. A
    COUNT(*) over a merchant of millions reads every one of its index entries on every page view.
    """
    qs = _filtered(merchant, filters).order_by()
    capped = qs[: EXACT_COUNT_LIMIT + 1].count()
    if capped <= EXACT_COUNT_LIMIT:
        return CustomerTotal(count=capped, exact=True)
    estimate = query_row_estimate(qs.values("pk"))
    return CustomerTotal(count=max(estimate or 0, capped), exact=False)


def _encode_cursor(customer: Customer, sort: str = DEFAULT_SORT) -> str:
    key = SORTS[sort].key
    if key == "created_at":
        # The API's cursors: [created_at, customer_id], as they always were.
        raw = json.dumps([customer.created_at.isoformat(), str(customer.customer_id)])
    else:
        raw = json.dumps([getattr(customer, key), str(customer.customer_id), sort])
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def _invalid_cursor() -> ValidationError:
    return ValidationError({"cursor": ValidationError("Invalid or expired cursor.", code="invalid_cursor")})


def _decode_cursor(cursor: str, sort: str) -> tuple[object, uuid.UUID]:
    """(key value, customer_id) of a cursor made for `sort`; ValidationError for anything else."""
    if SORTS[sort].key == "created_at":
        return decode_cursor(cursor)
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        value, pk, made_for = json.loads(raw)
        if not isinstance(value, str) or made_for != sort or "\x00" in value:
            raise ValueError
        return value, uuid.UUID(pk)
    except (ValueError, TypeError, binascii.Error, UnicodeDecodeError, AttributeError):
        raise _invalid_cursor() from None


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
        raise _invalid_cursor() from None


def _beyond(sort: CustomerSort, value, pk: uuid.UUID, *, backwards: bool = False) -> Q:
    """The rows after (value, pk) in the sort's order; before it when `backwards`.

    A row-value comparison, `(key, customer_id) > (value, pk)`: PostgreSQL reads it as one range of
    the (merchant, key, customer_id) index starting at the cursor, however long a run of ties on the
    key (the customers without an email) the page is in. The OR it stands for (`key > value OR key =
    value AND customer_id > pk`) is no index range: a page deep in the list would read every row
    before it (EXPLAIN on 200,000 customers: 190,000 rows removed by the filter). `key >= value`
    repeats part of it, so a planner that does not read the row value as a range still starts at the
    cursor's key and filters only the rows tied with it.
    """
    later = sort.descending == backwards
    row = RowCompare([F(sort.key), F("customer_id")], ">" if later else "<", [value, pk])
    return Q(**{f"{sort.key}__{'gte' if later else 'lte'}": value}) & Q(row)


def customer_list(
    *,
    merchant: Merchant,
    filters: CustomerFilters | None = None,
    cursor: str | None = None,
    before: str | None = None,
    limit: int = DEFAULT_PAGE_SIZE,
    oldest_first: bool = False,
    sort: str | None = None,
    with_custom_fields: bool = True,
    few_matches: bool = False,
) -> CustomerPage:
    """One page of customers in the order `sort` names (newest first), by keyset pagination.

    A cursor holds the sort key and customer_id of a row shown: `cursor` asks for the rows after
    the last row of a page, `before` for those before its first row (the portal's "Previous"),
    so any page costs what the first one does: no OFFSET, no COUNT. Walking back to the start
    gives the first page itself, full, whatever was added or deleted meanwhile.
    `few_matches` (the caller counted at most EXACT_COUNT_LIMIT matching customers of a search or filter)
    sorts the matches by name or email instead of walking that sort's index (order_by_without_index).
    Raises ValidationError(field 'cursor') for a cursor that is not one of this sort's.
    """
    sort_name = _sort_named(sort, oldest_first)
    order = SORTS[sort_name]
    qs = customer_queryset(merchant=merchant, filters=filters, sort=sort_name)
    if few_matches and order.key != "created_at":
        qs = qs.order_by(*order.order_by_without_index())
    if with_custom_fields:
        qs = _with_custom_fields(qs)

    def encoded(customer: Customer) -> str:
        return _encode_cursor(customer, sort_name)

    if before:
        value, pk = _decode_cursor(before, sort_name)
        rows = list(qs.filter(_beyond(order, value, pk, backwards=True)).reverse()[: limit + 1])
        if len(rows) > limit:
            rows = rows[:limit][::-1]
            return CustomerPage(
                customers=rows, has_more=True, next_cursor=encoded(rows[-1]), previous_cursor=encoded(rows[0])
            )
        cursor = None  # back at the start: the first page
    elif cursor:
        value, pk = _decode_cursor(cursor, sort_name)
        qs = qs.filter(_beyond(order, value, pk))
    rows = list(qs[: limit + 1])
    has_more = len(rows) > limit
    rows = rows[:limit]
    return CustomerPage(
        customers=rows,
        has_more=has_more,
        next_cursor=encoded(rows[-1]) if has_more and rows else None,
        previous_cursor=encoded(rows[0]) if cursor and rows else None,
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
