"""Writes to customers. Every door (API, portal, admin, import) calls these."""

import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any

from django.contrib.admin.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import DEFAULT_DB_ALIAS, connection, transaction
from django.db.models import F, prefetch_related_objects
from django.utils import timezone

from customers.bulk_insert import Insert, insert_all
from customers.events import event_inserts
from customers.exceptions import VersionMismatch
from customers.ids import uuid7
from customers.models import AuditEntry, Customer, CustomerEvent, CustomField, IdempotencyRecord
from customers.representation import customer_as_dict
from customers.validation import (
    MAX_CUSTOM_FIELDS,
    NAME_FIELDS,
    CustomerData,
    CustomFieldData,
    check_has_identity,
    clean_customer_payload,
)
from merchants.models import Merchant

RECORD_FIELDS = (*NAME_FIELDS, "address_country")


@dataclasses.dataclass(frozen=True)
class Actor:
    """Who makes a change and through which door, for the audit trail."""

    door: str  # AuditEntry.Door
    label: str

    @classmethod
    def for_client(cls, client) -> "Actor":
        return cls(AuditEntry.Door.API, f"client:{client.client_id}")

    @classmethod
    def for_user(cls, user, door: str) -> "Actor":
        return cls(door, f"user:{user.pk}:{user.get_username()}")


SYSTEM = Actor(AuditEntry.Door.CLI, "system")


CUSTOMER_COLUMNS = ("customer_id", "merchant", *RECORD_FIELDS, "created_at", "updated_at")
CUSTOM_FIELD_COLUMNS = ("customer", "name", "type", "value", "position")


def _custom_fields_insert(customer: Customer, fields: list[CustomFieldData], start: int = 0) -> Insert:
    return Insert(
        CustomField,
        CUSTOM_FIELD_COLUMNS,
        [(customer.pk, f.name, f.type, f.value, start + i) for i, f in enumerate(fields)],
    )


def _record(
    customer: Customer, event_type: str, actor: Actor, changed: list[str], changes: Sequence[Insert] = ()
) -> list[list[Any]]:
    """Write `changes` (rows of the change not yet written) with the change's event and audit entry.

    The snapshot is taken from `customer` and its custom fields as they are after
    the change. Returns the new primary keys of each of `changes` (see insert_all).
    """
    if not changes:
        # Drop any stale prefetch so the snapshot shows the fields just written, and
        # prefetch them again: the response then reuses them instead of querying again.
        getattr(customer, "_prefetched_objects_cache", {}).pop("custom_fields", None)
        prefetch_related_objects([customer], "custom_fields")
    snapshot = customer_as_dict(customer)
    return _write_with_event(
        changes,
        merchant=customer.merchant,
        customer_id=customer.customer_id,
        event_type=event_type,
        snapshot=snapshot,
        actor=actor,
        changed=changed,
    )


def _write_with_event(
    changes: Sequence[Insert],
    *,
    merchant: Merchant,
    customer_id,
    event_type: str,
    snapshot: dict[str, Any],
    actor: Actor,
    changed: list[str],
) -> list[list[Any]]:
    """`changes`, the event with its deliveries, and the audit entry, all in one `insert_all`."""
    audit = Insert(
        AuditEntry,
        ("merchant", "customer_id", "action", "door", "actor", "changed_fields", "created_at"),
        [(merchant.pk, customer_id, event_type.split(".")[1], actor.door, actor.label[:255], changed, timezone.now())],
    )
    event = event_inserts(
        merchant=merchant, customer_id=customer_id, type=event_type, snapshot=snapshot, first=len(changes)
    )
    return insert_all([*changes, *event, audit])[: len(changes)]


def created_fields(cleaned: CustomerData) -> list[str]:
    """What a new customer's audit entry lists as changed: its non-empty fields and each custom field."""
    changed = [f for f in RECORD_FIELDS if cleaned.values.get(f)]
    return changed + [f"options.custom_fields.{f.name}" for f in cleaned.custom_fields or []]


def customer_create(*, merchant: Merchant, data: Mapping[str, Any], actor: Actor = SYSTEM) -> Customer:
    """Validate `data` (the API's JSON shape) and store a new customer with its custom fields.

    Raises ValidationError listing every problem by field path. Duplicates are
    never merged: each call creates a new customer with a new customer_id. The
    customer, its custom fields, its event and its audit entry are written by
    one `insert_all`: a single statement on PostgreSQL, a transaction elsewhere.
    """
    cleaned = clean_customer_payload(data)
    now = timezone.now()
    customer = Customer(customer_id=uuid7(), merchant=merchant, created_at=now, updated_at=now, **cleaned.values)
    new_fields = cleaned.custom_fields or []
    fields = [
        CustomField(customer=customer, name=f.name, type=f.type, value=f.value, position=i)
        for i, f in enumerate(new_fields)
    ]
    customer.cache_custom_fields(fields)
    row = (customer.customer_id, merchant.pk, *(cleaned.values.get(f) for f in RECORD_FIELDS), now, now)
    _, field_keys = _record(
        customer,
        CustomerEvent.Type.CREATED,
        actor,
        created_fields(cleaned),
        changes=[Insert(Customer, CUSTOMER_COLUMNS, [row]), _custom_fields_insert(customer, new_fields)],
    )
    for instance in (customer, *fields):
        instance._state.adding, instance._state.db = False, DEFAULT_DB_ALIAS
    for field, pk in zip(fields, field_keys, strict=True):
        field.pk = pk
    return customer


def _locked(customer: Customer, expected_version: int | None) -> Customer:
    locked = Customer.objects.select_for_update().select_related("merchant").get(pk=customer.pk)
    if expected_version is not None and locked.version != expected_version:
        raise VersionMismatch(locked.version)
    return locked


def _apply(customer: Customer, cleaned: CustomerData, *, replace: bool) -> list[str]:
    """Apply cleaned input to a locked customer; returns the names of what changed."""
    changed = []
    for field in RECORD_FIELDS:
        if replace or field in cleaned.present:
            new = cleaned.values.get(field)
            if getattr(customer, field) != new:
                setattr(customer, field, new)
                changed.append(field)
    check_has_identity(None, {f: getattr(customer, f) for f in NAME_FIELDS})

    if cleaned.custom_fields is None:
        return changed
    existing = {f.name: f for f in customer.custom_fields.all()}
    if replace:
        wanted = {f.name: f for f in cleaned.custom_fields}
        removed = [name for name in existing if name not in wanted]
        CustomField.objects.filter(customer=customer).delete()
        insert_all([_custom_fields_insert(customer, cleaned.custom_fields)])
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
    insert_all([_custom_fields_insert(customer, to_add, start=next_position)])
    if to_add and CustomField.objects.filter(customer=customer).count() > MAX_CUSTOM_FIELDS:
        message = f"At most {MAX_CUSTOM_FIELDS} custom fields are allowed per customer."
        raise ValidationError({"options.custom_fields": ValidationError(message, code="max_items")})
    return changed


def _save_changes(customer: Customer, changed: list[str], actor: Actor) -> Customer:
    if changed:
        customer.version = F("version") + 1
        customer.save()
        customer.refresh_from_db(fields=["version", "updated_at"])
        _record(customer, CustomerEvent.Type.UPDATED, actor, changed)
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
    IdempotencyRecord.objects.filter(merchant=merchant, customer_id=customer_id).update(
        response_body=None, response_headers={}
    )
    CustomerEvent.objects.filter(merchant=merchant, customer_id=customer_id).update(
        payload={"customer_id": str(customer_id), "merchant_id": str(merchant.pk), "erased": True}
    )
    # Django admin's history shows the customer's name or email and what changed: keep the id only.
    LogEntry.objects.filter(
        content_type=ContentType.objects.get_for_model(Customer), object_id=str(customer_id)
    ).update(object_repr=str(customer_id), change_message="")
    customer.delete()
    transaction.on_commit(_checkpoint_erased_pages)
    snapshot = {"customer_id": str(customer_id), "merchant_id": str(merchant.pk)}
    _write_with_event(
        [],
        merchant=merchant,
        customer_id=customer_id,
        event_type=CustomerEvent.Type.DELETED,
        snapshot=snapshot,
        actor=actor,
        changed=[],
    )
