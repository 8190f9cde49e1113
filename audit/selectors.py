"""Reads of the audit trail, always for one merchant."""

from django.db.models import QuerySet

from audit.models import AuditEntry
from merchants.models import Merchant


def audit_entries_of(*, merchant: Merchant, customer_id) -> QuerySet[AuditEntry]:
    """The merchant's audit entries of one customer, newest first."""
    return AuditEntry.objects.filter(merchant=merchant, customer_id=customer_id).order_by("-id")
