"""CSV imports from the portal, run in a background thread with their progress in the database.

Why a thread and a row: an upload of tens of thousands of rows takes longer
than a request should (and than gunicorn's worker timeout), so the upload
request only saves the file, records a CustomerImport and starts a thread in
the same process; the thread calls the one importer (customers.imports) and
writes its progress and report to the CustomerImport row. The status page,
served by any process, reads that row and refreshes itself while it runs. A
process that dies mid-import leaves a row that stops moving: the status page
says so once it has not moved for STALLED_AFTER.
"""

import contextlib
import csv
import dataclasses
import datetime
import logging
import os
import tempfile
import threading

from django.core.exceptions import ValidationError
from django.db import close_old_connections, connections, transaction
from django.template.defaultfilters import filesizeformat
from django.utils import timezone

from audit.models import AuditEntry
from audit.services import Actor
from core.scoping import merchant_scope
from customers.imports import customer_import_csv
from customers.models import CustomerImport

logger = logging.getLogger(__name__)

MAX_IMPORT_BYTES = 100 * 1024 * 1024
STALLED_AFTER = datetime.timedelta(minutes=10)


def import_start(*, merchant, user, upload) -> CustomerImport:
    """Save the uploaded file aside, record the import and start it once this transaction commits.

    Raises ValidationError on `file` when the upload is larger than MAX_IMPORT_BYTES.
    """
    if upload.size > MAX_IMPORT_BYTES:
        message = f"The file is larger than {filesizeformat(MAX_IMPORT_BYTES)}."
        raise ValidationError({"file": ValidationError(message, code="file_too_large")})
    fd, path = tempfile.mkstemp(prefix="customer-import-", suffix=".csv")
    with os.fdopen(fd, "wb") as out:
        for chunk in upload.chunks():
            out.write(chunk)
    job = CustomerImport.objects.create(
        merchant=merchant, created_by=user, filename=(upload.name or "upload.csv")[:255]
    )
    transaction.on_commit(lambda: start_in_background(job.pk, path))
    return job


def _count_rows(path: str) -> int | None:
    try:
        with open(path, encoding="utf-8", newline="") as file:
            return max(sum(1 for cells in csv.reader(file) if cells) - 1, 0)
    except (csv.Error, UnicodeDecodeError):
        return None  # the importer reports where the file breaks


def run_import(job_id, path: str) -> None:
    """Run one import to its end, recording progress, report or failure on its CustomerImport."""
    # A background job: found by its id, then run in its merchant's scope.
    jobs = CustomerImport.objects.with_scopes_disabled().filter(pk=job_id)
    try:
        job = jobs.select_related("merchant", "created_by").get()
        jobs.update(rows_total=_count_rows(path))
        user = job.created_by
        actor = Actor.for_user(user, AuditEntry.Door.PORTAL) if user else Actor(AuditEntry.Door.PORTAL, "user:deleted")
        with open(path, encoding="utf-8", newline="") as file, merchant_scope(job.merchant):
            report = customer_import_csv(
                merchant=job.merchant,
                file=file,
                actor=actor,
                progress=lambda rows_read: jobs.update(rows_read=rows_read, updated_at=timezone.now()),
            )
        jobs.update(
            status=CustomerImport.Status.DONE,
            created_count=report.created,
            failed_count=report.failed,
            errors=[dataclasses.asdict(row) for row in report.errors],
            finished_at=timezone.now(),
            updated_at=timezone.now(),
        )
    except Exception:
        logger.exception("Customer import %s failed", job_id)
        jobs.update(
            status=CustomerImport.Status.FAILED,
            failure="An unexpected error stopped the import. Rows saved before it are kept; "
            "check the customer list before importing the file again.",
            finished_at=timezone.now(),
            updated_at=timezone.now(),
        )
    finally:
        with contextlib.suppress(OSError):
            os.remove(path)


def _thread_main(job_id, path: str) -> None:
    close_old_connections()
    try:
        run_import(job_id, path)
    finally:
        # The thread's own database connection would otherwise stay open.
        connections.close_all()


def start_in_background(job_id, path: str) -> None:
    threading.Thread(target=_thread_main, args=(job_id, path), name=f"customer-import-{job_id}", daemon=True).start()


def is_stalled(job: CustomerImport) -> bool:
    return job.status == CustomerImport.Status.RUNNING and timezone.now() - job.updated_at > STALLED_AFTER
