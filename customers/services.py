"""Writes to customers. Every door (API, portal, admin, import, bulk create) calls these.

A change writes its rows, its event (with a delivery per destination) and its
audit entry together: one statement on PostgreSQL (`insert_all`), one
transaction elsewhere. The rows new customers write are built once, by
`new_customer_rows`, for one customer (`customer_create`) or a batch of the
import (`new_customers_write_many`).
"""

import dataclasses
import datetime
from collections.abc import Mapping, Sequence
from typing import Any

from django.contrib.admin.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import DEFAULT_DB_ALIAS, IntegrityError, connection, transaction
from django.db.models import F
from django.utils import timezone

from api.idempotency import idempotency_erase_customer
from audit.services import SYSTEM, Actor, audit_insert
from core.bulk_insert import Insert, insert_all, insert_rows
from core.ids import uuid7
from customers.contact import ADDRESS_COLUMNS
from customers.exceptions import ReferenceInUse, VersionMismatch
from customers.models import Customer, CustomField
from customers.representation import customer_as_dict, customer_representation
from customers.search import customer_search_text, customer_sort_keys, fold
from customers.validation import (
    MAX_CUSTOM_FIELDS,
    NAME_FIELDS,
    PROFILE_FIELDS,
    CustomerData,
    CustomFieldData,
    check_contact,
    check_has_identity,
    clean_customer_payload,
)
from events.models import CustomerEvent
from events.services import EventRows, event_payloads_erase, event_rows
from merchants.models import Merchant

# firstname, lastname, email, company, phone, address_line1...address_postal_code, address_country, reference
RECORD_FIELDS = (*NAME_FIELDS, *PROFILE_FIELDS)
# How an audit entry names a changed column: the API's path (address.city for address_city).
_CHANGE_NAMES = {column: f"address.{part}" for part, column in ADDRESS_COLUMNS.items()}
SEARCH_COLUMNS = ("search_text", "company_key", "name_key", "email_key")
CUSTOMER_COLUMNS = ("customer_id", "merchant", *RECORD_FIELDS, *SEARCH_COLUMNS, "version", "created_at", "updated_at")
CUSTOM_FIELD_COLUMNS = ("customer", "merchant", "name", "type", "value", "position")
FIRST_VERSION = 1


def search_values(values: Mapping[str, Any]) -> tuple[str, str | None, str, str]:
    """The SEARCH_COLUMNS for a customer with these field values (customers/search.py)."""
    names = {name: values.get(name) for name in NAME_FIELDS}
    company_key = fold(values.get("company")) or None
    searched = {name: values.get(name) for name in (*NAME_FIELDS, "phone", "reference")}
    return customer_search_text(**searched), company_key, *customer_sort_keys(**names)


def change_name(field: str) -> str:
    """The name an audit entry gives a changed column: `address.city` for address_city, else the column's."""
    return _CHANGE_NAMES.get(field, field)


def _custom_fields_insert(customer_id, merchant_id, fields: Sequence[CustomFieldData], start: int = 0) -> Insert:
    return Insert(
        CustomField,
        CUSTOM_FIELD_COLUMNS,
        [(customer_id, merchant_id, f.name, f.type, f.value, start + i) for i, f in enumerate(fields)],
    )


def created_fields(cleaned: CustomerData) -> list[str]:
    """What a new customer's audit entry lists as changed: its non-empty fields and each custom field."""
    changed = [change_name(f) for f in RECORD_FIELDS if cleaned.values.get(f)]
    return changed + [f"options.custom_fields.{f.name}" for f in cleaned.custom_fields or []]


@dataclasses.dataclass(frozen=True)
class NewCustomerRows:
    """Every row that new customers write: themselves, their custom fields, their events and audit entries."""

    customers: Insert
    custom_fields: Insert
    events: EventRows
    audit: Insert


def new_customer_rows(
    *, merchant: Merchant, batch: Sequence[CustomerData], actor: Actor, now: datetime.datetime
) -> NewCustomerRows:
    """The rows of a new customer for each item of `batch` (validated input), all created at `now`."""
    customers, fields, snapshots, audits = [], [], [], []
    for cleaned in batch:
        customer_id = uuid7()
        values = [cleaned.values.get(f) for f in RECORD_FIELDS]
        searched = search_values(cleaned.values)
        customers.append((customer_id, merchant.pk, *values, *searched, FIRST_VERSION, now, now))
        custom_fields = cleaned.custom_fields or []
        fields += _custom_fields_insert(customer_id, merchant.pk, custom_fields).rows
        snapshot = customer_representation(
            customer_id=customer_id,
            merchant_id=merchant.pk,
            **dict(zip(RECORD_FIELDS, values, strict=True)),
            custom_fields=custom_fields,
            created_at=now,
            updated_at=now,
        )
        snapshots.append((customer_id, snapshot))
        audits.append((customer_id, created_fields(cleaned)))
    return NewCustomerRows(
        customers=Insert(Customer, CUSTOMER_COLUMNS, customers),
        custom_fields=Insert(CustomField, CUSTOM_FIELD_COLUMNS, fields),
        events=event_rows(merchant=merchant, type=CustomerEvent.Type.CREATED, subjects=snapshots, now=now),
        audit=audit_insert(merchant=merchant, actor=actor, action="created", entries=audits, now=now),
    )


def new_customers_write_many(rows: NewCustomerRows) -> None:
    """Write a batch of new customers (the import) in bulk, in one transaction."""
    with transaction.atomic():
        insert_rows(rows.customers)
        insert_rows(rows.custom_fields)
        rows.events.write_many()
        insert_rows(rows.audit)


def customer_create(*, merchant: Merchant, data: Mapping[str, Any], actor: Actor = SYSTEM) -> Customer:
    """Validate `data` (the API's JSON shape) and store a new customer with its custom fields.

    Raises ValidationError listing every problem by field path. Duplicates are
    never merged: each call creates a new customer with a new customer_id. The
    customer, its custom fields, its event and its audit entry are written by
    one `insert_all`: a single statement on PostgreSQL, a transaction elsewhere.
    """
    cleaned = clean_customer_payload(data)
    rows = new_customer_rows(merchant=merchant, batch=[cleaned], actor=actor, now=timezone.now())
    inserts = [rows.customers, rows.custom_fields, *rows.events.inserts(first=2), rows.audit]
    reference = cleaned.values.get("reference")
    if reference is None:
        _, field_keys, *_ = insert_all(inserts)
    else:
        with _reference_guard(merchant, reference):
            _, field_keys, *_ = insert_all(inserts)
    # The instances the ORM would load for these rows (`from_db`: saved, on this database).
    customer = _as_loaded(Customer, CUSTOMER_COLUMNS, rows.customers.rows[0])
    customer.merchant = merchant
    customer.loaded_custom_fields = [
        _as_loaded(CustomField, ("id", *CUSTOM_FIELD_COLUMNS), (pk, *row))
        for pk, row in zip(field_keys, rows.custom_fields.rows, strict=True)
    ]
    return customer


class _reference_guard:
    """Turn the unique (merchant, reference) constraint's IntegrityError into ReferenceInUse naming the holder.

    Inside a transaction (an Idempotency-Key's, the portal's, admin's), a savepoint around the write keeps
    the transaction usable to read who holds the reference; in autocommit (a plain API create) the failed
    statement alone is undone, and no savepoint costs two round trips. Either way two creates racing for
    one reference end in one 201 and one 409, never a 500.
    """

    def __init__(self, merchant: Merchant, reference: str, customer_id=None):
        self.merchant, self.reference, self.customer_id = merchant, reference, customer_id
        self.savepoint = transaction.atomic() if connection.in_atomic_block else None

    def __enter__(self):
        if self.savepoint is not None:
            self.savepoint.__enter__()

    def __exit__(self, exc_type, exc, tb):
        if self.savepoint is not None:
            self.savepoint.__exit__(exc_type, exc, tb)
        if exc_type is not None and issubclass(exc_type, IntegrityError):
            holder = (
                Customer.objects.filter(merchant=self.merchant, reference=self.reference)
                .exclude(pk=self.customer_id)
                .values_list("customer_id", flat=True)
                .first()
            )
            if holder is not None:
                raise ReferenceInUse(self.reference, holder) from exc
        return False


def _as_loaded(model, names: Sequence[str], row: Sequence[Any]):
    """The instance the ORM would load for a row just written with these columns (`Model.from_db`)."""
    by_attname = {model._meta.get_field(name).attname: value for name, value in zip(names, row, strict=True)}
    attnames = [field.attname for field in model._meta.concrete_fields if field.attname in by_attname]
    return model.from_db(DEFAULT_DB_ALIAS, attnames, [by_attname[attname] for attname in attnames])


def _write_change(
    changes: Sequence[Insert],
    *,
    merchant: Merchant,
    customer_id,
    event_type: str,
    snapshot: dict[str, Any],
    actor: Actor,
    changed: list[str],
) -> list[list[Any]]:
    """`changes` (rows of the change not yet written), its event with deliveries and its audit entry, at once.

    Returns the new primary keys of each of `changes` (see insert_all).
    """
    now = timezone.now()
    events = event_rows(merchant=merchant, type=event_type, subjects=[(customer_id, snapshot)], now=now)
    audit = audit_insert(
        merchant=merchant, actor=actor, action=event_type.split(".")[1], entries=[(customer_id, changed)], now=now
    )
    return insert_all([*changes, *events.inserts(first=len(changes)), audit])[: len(changes)]


def _locked(customer: Customer, expected_version: int | None) -> Customer:
    locked = Customer.objects.select_for_update().select_related("merchant").get(pk=customer.pk)
    if expected_version is not None and locked.version != expected_version:
        raise VersionMismatch(locked.version)
    return locked


def _apply(customer: Customer, cleaned: CustomerData, *, replace: bool) -> list[str]:
    """Apply cleaned input to a locked customer; returns the names of what changed."""
    before = {field: getattr(customer, field) for field in RECORD_FIELDS}
    merged = dict(before)
    for field in RECORD_FIELDS:
        if replace or field in cleaned.present:
            merged[field] = cleaned.values.get(field)
    check_has_identity(None, merged)
    if not replace:
        # The rules that need the country, on the merged record: a national phone number or an
        # address part checked against the stored country, a new country against the stored address.
        sent = {field for field in RECORD_FIELDS if merged[field] != before[field]}
        check_contact(
            None,
            merged,
            check_phone="phone" in sent,
            check_address=bool(sent & {"address_country", *ADDRESS_COLUMNS.values()}),
        )
    changed = []
    for field in RECORD_FIELDS:
        if merged[field] != before[field]:
            setattr(customer, field, merged[field])
            changed.append(change_name(field))

    if cleaned.custom_fields is None:
        return changed
    existing = {f.name: f for f in customer.custom_fields.all()}
    if replace:
        wanted = {f.name: f for f in cleaned.custom_fields}
        removed = [name for name in existing if name not in wanted]
        CustomField.objects.filter(customer=customer).delete()
        insert_all([_custom_fields_insert(customer.pk, customer.merchant_id, cleaned.custom_fields)])
        changed += [f"options.custom_fields.{name}" for name in removed]
        changed += [
            f"options.custom_fields.{f.name}"
            for f in cleaned.custom_fields
            if f.name not in existing or (existing[f.name].type, existing[f.name].value) != (f.type, f.value)
        ]
        return changed

    next_position = max((f.position for f in existing.values()), default=-1) + 1
    to_add = []
    for f in cleaned.custom_fields:
        current = existing.get(f.name)
        if f.value is None:
            if current is not None:
                current.delete()
                changed.append(f"options.custom_fields.{f.name}")
        elif current is None:
            to_add.append(f)
            changed.append(f"options.custom_fields.{f.name}")
        elif (current.type, current.value) != (f.type, f.value):
            current.type, current.value = f.type, f.value
            current.save(update_fields=["type", "value"])
            changed.append(f"options.custom_fields.{f.name}")
    insert_all([_custom_fields_insert(customer.pk, customer.merchant_id, to_add, start=next_position)])
    if to_add and CustomField.objects.filter(customer=customer).count() > MAX_CUSTOM_FIELDS:
        message = f"At most {MAX_CUSTOM_FIELDS} custom fields are allowed per customer."
        raise ValidationError({"options.custom_fields": ValidationError(message, code="max_items")})
    return changed


def _save_changes(customer: Customer, changed: list[str], actor: Actor) -> Customer:
    """Store what `_apply` changed with its event and audit entry; the customer comes back with its fields loaded."""
    if changed:
        (customer.search_text, customer.company_key, customer.name_key, customer.email_key) = search_values(
            vars(customer)
        )
        customer.version = F("version") + 1
        if "reference" in changed and customer.reference is not None:
            with _reference_guard(customer.merchant, customer.reference, customer.customer_id):
                customer.save()
        else:
            customer.save()
        customer.refresh_from_db(fields=["version", "updated_at"])
    # The fields as they are now: the snapshot and the answer both show them.
    customer.loaded_custom_fields = list(customer.custom_fields.all())
    if changed:
        _write_change(
            [],
            merchant=customer.merchant,
            customer_id=customer.customer_id,
            event_type=CustomerEvent.Type.UPDATED,
            snapshot=customer_as_dict(customer),
            actor=actor,
            changed=changed,
        )
    return customer


@transaction.atomic
def customer_update(
    *, customer: Customer, data: Mapping[str, Any], actor: Actor = SYSTEM, expected_version: int | None = None
) -> Customer:
    """JSON Merge Patch (RFC 7396): present fields are set, null clears, absent fields stay.

    `options.custom_fields` merges by name: a listed field is added or replaced,
    one with `"value": null` is removed. The result must satisfy every create rule.
    Raises VersionMismatch when `expected_version` is given and stale.
    """
    cleaned = clean_customer_payload(data, partial=True)
    customer = _locked(customer, expected_version)
    changed = []
    if cleaned.clear_custom_fields:
        removed = list(customer.custom_fields.values_list("name", flat=True))
        customer.custom_fields.all().delete()
        changed += [f"options.custom_fields.{n}" for n in removed]
    changed = _apply(customer, cleaned, replace=False) + changed
    return _save_changes(customer, changed, actor)


@transaction.atomic
def customer_replace(
    *, customer: Customer, data: Mapping[str, Any], actor: Actor = SYSTEM, expected_version: int | None = None
) -> Customer:
    """Replace the whole record (PUT) with create semantics; absent fields become empty."""
    cleaned = clean_customer_payload(data)
    customer = _locked(customer, expected_version)
    changed = _apply(customer, cleaned, replace=True)
    return _save_changes(customer, changed, actor)


def _checkpoint_erased_pages() -> None:
    """SQLite: move the WAL into the database file and empty it, so the pages an erasure replaced go.

    Until a checkpoint, the write-ahead log keeps the earlier version of every page the
    deletion changed, personal data included. Best effort: a reader still looking at an
    older snapshot lets the checkpoint finish only up to that snapshot (the next one goes further).
    """
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")


@transaction.atomic
def customer_delete(*, customer: Customer, actor: Actor = SYSTEM, expected_version: int | None = None) -> None:
    """Delete the customer and erase its personal data from everything we keep.

    Custom fields go with it; stored idempotency replays and undelivered event
    payloads that hold its data are scrubbed; the audit trail keeps ids and field
    names only. The deletion event carries ids alone.
    """
    customer = _locked(customer, expected_version)
    customer_id, merchant = customer.customer_id, customer.merchant
    idempotency_erase_customer(merchant=merchant, customer_id=customer_id)
    ids = {"customer_id": str(customer_id), "merchant_id": str(merchant.pk)}
    event_payloads_erase(merchant=merchant, subject_id=customer_id, payload={**ids, "erased": True})
    # Django admin's history shows the customer's name or email and what changed: keep the id only.
    LogEntry.objects.filter(
        content_type=ContentType.objects.get_for_model(Customer), object_id=str(customer_id)
    ).update(object_repr=str(customer_id), change_message="")
    customer.delete()
    transaction.on_commit(_checkpoint_erased_pages)
    _write_change(
        [],
        merchant=merchant,
        customer_id=customer_id,
        event_type=CustomerEvent.Type.DELETED,
        snapshot=ids,
        actor=actor,
        changed=[],
    )
