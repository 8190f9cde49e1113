"""Writes of the audit trail: who changed which customer, through which door, which fields (names only).

An entry is written with the change it records, in the same statement or
transaction (customers.services builds it with `audit_insert`).
"""

import dataclasses
import datetime
from collections.abc import Sequence

from audit.models import AuditEntry
from core.bulk_insert import Insert
from merchants.models import Merchant

AUDIT_COLUMNS = ("merchant", "customer_id", "action", "door", "actor", "changed_fields", "created_at")
MAX_ACTOR_LENGTH = AuditEntry._meta.get_field("actor").max_length
# How an actor label begins; audit.selectors reads them back into names.
CLIENT_PREFIX = "client:"
USER_PREFIX = "user:"
IMPORT_PREFIX = "import:user:"
CLI_IMPORT_PREFIX = "import_customers:"


@dataclasses.dataclass(frozen=True)
class Actor:
    """Who makes a change and through which door."""

    door: str  # AuditEntry.Door
    label: str

    @classmethod
    def for_client(cls, client) -> "Actor":
        return cls(AuditEntry.Door.API, f"{CLIENT_PREFIX}{client.client_id}")

    @classmethod
    def for_user(cls, user, door: str) -> "Actor":
        return cls(door, f"{USER_PREFIX}{user.pk}:{user.get_username()}")

    @classmethod
    def for_import(cls, user) -> "Actor":
        """A CSV import started in the portal by `user` (None: an account deleted since)."""
        if user is None:
            return cls(AuditEntry.Door.PORTAL, f"{IMPORT_PREFIX}deleted:")
        return cls(AuditEntry.Door.PORTAL, f"{IMPORT_PREFIX}{user.pk}:{user.get_username()}")


SYSTEM = Actor(AuditEntry.Door.CLI, "system")


def audit_insert(
    *, merchant: Merchant, actor: Actor, action: str, entries: Sequence[tuple], now: datetime.datetime
) -> Insert:
    """The audit entries of one kind of change (`created`, `updated`, `deleted`) by `actor`.

    `entries` holds (customer_id, changed field names) pairs, one entry each.
    """
    label = actor.label[:MAX_ACTOR_LENGTH]
    return Insert(
        AuditEntry,
        AUDIT_COLUMNS,
        [(merchant.pk, customer_id, action, actor.door, label, changed, now) for customer_id, changed in entries],
    )
