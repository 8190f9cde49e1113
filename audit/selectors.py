"""Reads of the audit trail, always for one merchant."""

import dataclasses
import datetime
from collections.abc import Sequence

from django.contrib.auth import get_user_model
from django.db.models import QuerySet

from audit.models import AuditEntry
from audit.services import CLI_IMPORT_PREFIX, CLIENT_PREFIX, IMPORT_PREFIX, USER_PREFIX
from merchants.models import Merchant, OAuthClient

CUSTOM_FIELD_PREFIX = "options.custom_fields."
# What the record's own fields are called on the pages; a custom field is shown by its own name.
FIELD_LABELS = {
    "firstname": "first name",
    "lastname": "last name",
    "address_country": "country",
    "address.line1": "address line 1",
    "address.line2": "address line 2",
    "address.city": "city",
    "address.region": "region",
    "address.postal_code": "postal code",
}
_VERBS = {"created": "Created", "updated": "Changed", "deleted": "Deleted"}
_IMPORT_VERBS = {"created": "Imported", "updated": "Changed by an import", "deleted": "Deleted by an import"}
_DOORS = {
    AuditEntry.Door.PORTAL: "in the portal",
    AuditEntry.Door.ADMIN: "in Django admin",
    AuditEntry.Door.CLI: "from the command line",
}


def audit_entries_of(*, merchant: Merchant, customer_id) -> QuerySet[AuditEntry]:
    """The merchant's audit entries of one customer, newest first."""
    return AuditEntry.objects.filter(merchant=merchant, customer_id=customer_id).order_by("-id")


@dataclasses.dataclass(frozen=True)
class HistoryLine:
    """One audit entry as a person reads it: "Changed by Ada Admin in the portal", and which fields."""

    created_at: datetime.datetime
    action: str
    sentence: str
    changed_fields: list[str]


def customer_history(*, merchant: Merchant, customer_id, limit: int = 20) -> list[HistoryLine]:
    """The customer's latest audit entries, newest first, in words: three queries however many there are."""
    entries = list(audit_entries_of(merchant=merchant, customer_id=customer_id)[:limit])
    return describe_entries(entries=entries)


def describe_entries(*, entries: Sequence[AuditEntry]) -> list[HistoryLine]:
    """The entries in words, the API clients' and people's names read now (one query each, at most).

    A client is named only on its own merchant's entries. A client or person deleted since is named
    from what the entry kept: "a revoked API client", the person's email.
    """
    actors = [_parse_actor(entry.actor) for entry in entries]
    client_ids = {key for kind, key, _ in actors if kind == "client"}
    user_ids = {key for kind, key, _ in actors if kind in ("user", "import") and key is not None}
    clients = {}
    if client_ids:
        # Outside any one merchant's scope (Django admin lists every merchant's entries): the merchant is matched below.
        found = OAuthClient.objects.with_scopes_disabled().filter(client_id__in=client_ids)
        clients = {
            (merchant_id, key): name for merchant_id, key, name in found.values_list("merchant", "client_id", "name")
        }
    users = {}
    if user_ids:
        users = {user.pk: user for user in get_user_model().objects.filter(pk__in=user_ids)}
    return [
        HistoryLine(
            created_at=entry.created_at,
            action=entry.action,
            sentence=_sentence(entry, actor, clients, users),
            changed_fields=[_field_label(name) for name in entry.changed_fields or []],
        )
        for entry, actor in zip(entries, actors, strict=True)
    ]


def _parse_actor(label: str) -> tuple[str, object, str]:
    """(kind, key, fallback name) of an actor label written by audit.services.Actor."""
    if label.startswith(CLIENT_PREFIX):
        return "client", label.removeprefix(CLIENT_PREFIX), ""
    for kind, prefix in (("import", IMPORT_PREFIX), ("user", USER_PREFIX)):
        if label.startswith(prefix):
            pk, _, username = label.removeprefix(prefix).partition(":")
            return kind, int(pk) if pk.isdigit() else None, username
    if label.startswith(CLI_IMPORT_PREFIX):
        return "cli_import", None, label.removeprefix(CLI_IMPORT_PREFIX)
    return "other", None, label


def _person(user, fallback: str) -> str:
    if user is None:
        return f"{fallback} (no longer a user)" if fallback else "a deleted user"
    return user.get_full_name() or user.get_username()


def _sentence(entry: AuditEntry, actor, clients: dict, users: dict) -> str:
    kind, key, fallback = actor
    verb = _VERBS.get(entry.action, entry.action.capitalize())
    if kind == "client":
        name = clients.get((entry.merchant_id, key))
        who = f"client {name}" if name else "a revoked API client"
        return f"{verb} through the API by {who}"
    if kind == "import":
        return f"{_IMPORT_VERBS.get(entry.action, verb)} by {_person(users.get(key), fallback)} in the portal"
    if kind == "cli_import":
        return f"{_IMPORT_VERBS.get(entry.action, verb)} from the command line by {fallback or 'an operator'}"
    door = _DOORS.get(entry.door, f"through the {entry.door}")
    if kind == "user":
        return f"{verb} by {_person(users.get(key), fallback)} {door}"
    if fallback == "system":
        return f"{verb} by the system"
    return f"{verb} {door}" + (f" by {fallback}" if fallback else "")


def _field_label(name: str) -> str:
    if name.startswith(CUSTOM_FIELD_PREFIX):
        return name.removeprefix(CUSTOM_FIELD_PREFIX)
    return FIELD_LABELS.get(name, name)
