"""CSV exports from the portal as jobs: written by the worker into Django's storage, downloaded through the portal.

A large export takes longer than a request should, so the portal records a CustomerExport
(with the list's filters), queues `customer_export_task` once that commits, and shows the
export's page; the worker writes the file to `default_storage` (a folder, or a bucket every
machine shares) and the page then links to the download view, which checks the merchant.
"""

import dataclasses
import datetime
import io
import logging
import uuid

from django.conf import settings
from django.core.files import File
from django.core.files.storage import default_storage
from django.db import transaction
from django.utils import timezone
from django_tasks import task

from core.scoping import merchant_scope
from customers.exports import customer_export_csv
from customers.models import CustomerExport
from customers.selectors import CustomerFilters, customer_queryset, customers_of

logger = logging.getLogger(__name__)

PROGRESS_EVERY = 5000  # rows between two progress updates
_DATETIME_FILTERS = ("created_after", "created_before")


def filters_as_json(filters: CustomerFilters | None) -> dict:
    if filters is None:
        return {}
    data = dataclasses.asdict(filters)
    for name in _DATETIME_FILTERS:
        if data.get(name) is not None:
            data[name] = data[name].isoformat()
    data["custom_fields"] = [list(pair) for pair in data.get("custom_fields", ())]
    data["customer_ids"] = [str(pk) for pk in data.get("customer_ids", ())]
    return {name: value for name, value in data.items() if value not in (None, [], "")}


def filters_from_json(data: dict) -> CustomerFilters:
    values = dict(data)
    for name in _DATETIME_FILTERS:
        if values.get(name):
            values[name] = datetime.datetime.fromisoformat(values[name])
    values["custom_fields"] = tuple(tuple(pair) for pair in values.get("custom_fields", ()))
    values["customer_ids"] = tuple(uuid.UUID(pk) for pk in values.get("customer_ids", ()))
    return CustomerFilters(**values)


def exports_expire(now: datetime.datetime | None = None) -> int:
    """Delete the files of exports finished more than EXPORT_RETENTION_HOURS ago; returns how many expired.

    Run by the worker (jobs/worker.py) at every heartbeat, across merchants.
    """
    now = now or timezone.now()
    cutoff = now - datetime.timedelta(hours=settings.EXPORT_RETENTION_HOURS)
    old = CustomerExport.objects.with_scopes_disabled().filter(
        status=CustomerExport.Status.DONE, finished_at__lt=cutoff
    )
    expired = 0
    for export in old.only("pk", "file"):
        if export.file.name:
            default_storage.delete(export.file.name)
        expired += old.filter(pk=export.pk).update(status=CustomerExport.Status.EXPIRED, file="")
    return expired


def export_start(
    *, merchant, user, filters: CustomerFilters | None, oldest_first: bool = False, sort: str | None = None
) -> CustomerExport:
    """Record an export of the merchant's customers matching `filters` and queue its job once this commits.

    The file's rows follow the list's order: `sort` (one of customers.selectors.SORTS), else newest first
    (or oldest first).
    """
    order = {"sort": sort} if sort else {"oldest_first": oldest_first}
    export = CustomerExport.objects.create(
        merchant=merchant, created_by=user, filters={**filters_as_json(filters), **order}
    )
    transaction.on_commit(lambda: customer_export_task.enqueue(str(export.pk)))
    return export


def export_selected_start(*, merchant, user, customer_ids, sort: str | None = None) -> CustomerExport | None:
    """Export the merchant's customers among `customer_ids` (ids of other merchants and unknown ids select nothing).

    None when none of the ids is one of the merchant's customers.
    """
    own = tuple(customer.pk for customer in customers_of(merchant=merchant, customer_ids=customer_ids))
    if not own:
        return None
    return export_start(merchant=merchant, user=user, filters=CustomerFilters(customer_ids=own), sort=sort)


@task()
def customer_export_task(export_id: str) -> None:
    """The job `export_start` queues: write the CSV into storage (again from the start if it was interrupted)."""
    run_export(export_id)


class _LineStream(io.RawIOBase):
    """The export's lines as a readable binary stream, so storage can write it without holding it in memory."""

    def __init__(self, lines, on_line):
        self.lines, self.on_line, self.pending = lines, on_line, b""

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        while len(self.pending) < len(buffer):
            line = next(self.lines, None)
            if line is None:
                break
            self.on_line()
            self.pending += line.encode("utf-8")
        size = min(len(buffer), len(self.pending))
        buffer[:size] = self.pending[:size]
        self.pending = self.pending[size:]
        return size


def run_export(export_id) -> None:
    exports = CustomerExport.objects.with_scopes_disabled().filter(pk=export_id)
    export = exports.select_related("merchant").first()
    if export is None or export.status not in (CustomerExport.Status.QUEUED, CustomerExport.Status.RUNNING):
        return
    stored = dict(export.filters)
    oldest_first = bool(stored.pop("oldest_first", False))
    sort = stored.pop("sort", None)
    filters = filters_from_json(stored)
    written = -1  # the header is not a row

    def counted() -> None:
        nonlocal written
        written += 1
        if written and written % PROGRESS_EVERY == 0:
            exports.update(rows_written=written, updated_at=timezone.now())

    try:
        with merchant_scope(export.merchant):
            total = customer_queryset(merchant=export.merchant, filters=filters).count()
            exports.update(status=CustomerExport.Status.RUNNING, rows_total=total, rows_written=0)
            lines = customer_export_csv(merchant=export.merchant, filters=filters, oldest_first=oldest_first, sort=sort)
            stream = io.BufferedReader(_LineStream(iter(lines), counted), buffer_size=256 * 1024)
            stamp = export.created_at.strftime("%Y%m%d-%H%M%S")
            name = f"exports/{export.merchant_id}/{export.pk}/customers-{stamp}.csv"
            # What an interrupted run of this export may have left (a worker killed mid-write).
            default_storage.delete(name)
            name = default_storage.save(name, File(stream, name="customers.csv"))
    except Exception:
        logger.exception("Customer export %s failed", export_id)
        exports.update(
            status=CustomerExport.Status.FAILED,
            failure="An unexpected error stopped the export. Start it again from the customer list.",
            finished_at=timezone.now(),
        )
        return
    exports.update(
        status=CustomerExport.Status.DONE, file=name, rows_written=max(written, 0), finished_at=timezone.now()
    )
