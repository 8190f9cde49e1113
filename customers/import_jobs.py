"""CSV imports from the portal as durable jobs: resumable, exactly once per row, cancellable.

The upload request stores the file in Django's storage (`default_storage`: a folder, or a
bucket shared by every machine), records a CustomerImport and, once that commits, queues
`customer_import_task` (Django's Tasks API, django-tasks-db). `manage.py worker` runs it.

Exactly once per row: each batch of customers is written in one transaction with the import's
checkpoint (rows done, counts, refused rows' errors) on the CustomerImport row. A worker killed at
any moment (SIGKILL, a deploy) leaves the last committed checkpoint; the job is queued again
(jobs.worker.requeue_abandoned, or at once by a worker that stops gracefully) and the next run
skips the rows up to the checkpoint and goes on. Between two batches the job looks at the
cancel flag and at the worker's stop request.
"""

import contextlib
import csv
import dataclasses
import datetime
import logging
from collections.abc import Iterator

from django.core.exceptions import ValidationError
from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import F
from django.template.defaultfilters import filesizeformat
from django.utils import timezone
from django_tasks import task

from audit.services import Actor
from core.jobs import WorkerStopping, raise_if_stopping
from core.scoping import merchant_scope
from customers.imports import ImportReport, ImportRowError, customer_import_csv, utf8_lines
from customers.models import CustomerImport

logger = logging.getLogger(__name__)

MAX_IMPORT_BYTES = 100 * 1024 * 1024


class ImportCancelled(Exception):  # noqa: N818 - a request, not an error
    pass


class RunSuperseded(Exception):  # noqa: N818 - a fact, not an error
    """Another run of this import started since this one did (this one's worker was taken for dead)."""


def import_start(*, merchant, user, upload) -> CustomerImport:
    """Store the uploaded file, record the import and queue its job once this transaction commits.

    Raises ValidationError on `file` when the upload is larger than MAX_IMPORT_BYTES.
    """
    if upload.size > MAX_IMPORT_BYTES:
        message = f"The file is larger than {filesizeformat(MAX_IMPORT_BYTES)}."
        raise ValidationError({"file": ValidationError(message, code="file_too_large")})
    job = CustomerImport(merchant=merchant, created_by=user, filename=(upload.name or "upload.csv")[:255])
    job.file.save(job.filename, upload, save=False)
    job.save()
    transaction.on_commit(lambda: customer_import_task.enqueue(str(job.pk)))
    return job


def import_cancel(*, merchant, job: CustomerImport) -> CustomerImport:
    """Ask the import to stop. A queued one stops now; a running one at its next batch, keeping what it committed."""
    with transaction.atomic():
        locked = CustomerImport.objects.select_for_update().get(merchant=merchant, pk=job.pk)
        if locked.status in CustomerImport.FINISHED:
            return locked
        locked.cancel_requested = True
        if locked.status == CustomerImport.Status.QUEUED:
            locked.status = CustomerImport.Status.CANCELLED
            locked.failure = "Cancelled before it started: nothing was imported."
            locked.finished_at = timezone.now()
        locked.save()
    if locked.status == CustomerImport.Status.CANCELLED:
        _remove_file(locked)
    return locked


@dataclasses.dataclass(frozen=True)
class Progress:
    rows_done: int
    rows_refused: int
    rows_total: int | None
    rows_per_second: float | None
    seconds_left: float | None

    @property
    def percent(self) -> int | None:
        return min(100, round(100 * self.rows_done / self.rows_total)) if self.rows_total else None


def import_progress(job: CustomerImport, now: datetime.datetime | None = None) -> Progress:
    """How far the import is, and its speed since its current run started (a resumed run counts from there)."""
    now = now or timezone.now()
    rate = seconds_left = None
    if job.status == CustomerImport.Status.RUNNING and job.run_started_at:
        elapsed = (now - job.run_started_at).total_seconds()
        done = job.rows_read - job.run_rows
        if elapsed > 0 and done > 0:
            rate = done / elapsed
            if job.rows_total is not None:
                seconds_left = max(job.rows_total - job.rows_read, 0) / rate
    return Progress(job.rows_read, job.failed_count, job.rows_total, rate, seconds_left)


def describe_duration(seconds: float | None) -> str:
    if seconds is None:
        return "—"
    seconds = round(seconds)
    if seconds < 60:
        return f"{seconds} s"
    if seconds < 3600:
        return f"{seconds // 60} min {seconds % 60:02d} s"
    return f"{seconds // 3600} h {seconds % 3600 // 60:02d} min"


@task()
def customer_import_task(import_id: str) -> None:
    """The job `import_start` queues: run (or resume) one import to its end."""
    run_import(import_id)


def _count_rows(job: CustomerImport) -> int | None:
    try:
        with _open_text(job) as text:
            return max(sum(1 for cells in csv.reader(text) if cells) - 1, 0)
    except (csv.Error, UnicodeDecodeError):
        return None  # the importer reports where the file breaks


@contextlib.contextmanager
def _open_text(job: CustomerImport) -> Iterator[Iterator[str]]:
    with default_storage.open(job.file.name, "rb") as binary:
        yield utf8_lines(binary)


def _saved_report(job: CustomerImport) -> ImportReport:
    return ImportReport(
        created=job.created_count,
        updated=job.updated_count,
        failed=job.failed_count,
        errors=[ImportRowError(line=row["line"], errors=row["errors"]) for row in job.errors],
        rows_read=job.rows_read,
    )


def _report_fields(report: ImportReport) -> dict:
    return {
        "rows_read": report.rows_read,
        "created_count": report.created,
        "updated_count": report.updated,
        "failed_count": report.failed,
        "errors": [dataclasses.asdict(row) for row in report.errors],
    }


def _actor(job: CustomerImport) -> Actor:
    return Actor.for_import(job.created_by)


def run_import(import_id) -> None:
    """Run or resume one import, recording checkpoints, then its report, failure or cancellation."""
    # A background job: found by its id, then run in its merchant's scope.
    jobs = CustomerImport.objects.with_scopes_disabled().filter(pk=import_id)
    job = jobs.select_related("merchant", "created_by").first()
    if job is None or job.status in CustomerImport.FINISHED:
        return  # queued twice, or cancelled meanwhile
    # Only a job still waiting or running, and not cancelled meanwhile, starts (import_cancel may race with this).
    started = jobs.filter(
        status__in=(CustomerImport.Status.QUEUED, CustomerImport.Status.RUNNING), cancel_requested=False
    ).update(
        status=CustomerImport.Status.RUNNING, run_started_at=timezone.now(), run_rows=F("rows_read"), runs=F("runs") + 1
    )
    # The checkpoint as this run's fence left it: the run it supersedes can commit no batch after it.
    job = jobs.select_related("merchant", "created_by").get()
    if not started:
        if job.status not in CustomerImport.FINISHED:
            _finish(jobs, job, CustomerImport.Status.CANCELLED, _cancelled_note(job.rows_read))
        return
    run = jobs.filter(runs=job.runs)
    try:
        if job.rows_total is None:
            jobs.update(rows_total=_count_rows(job))

        def checkpoint(report: ImportReport) -> None:
            # Fenced: in the batch's transaction, and only while this is the import's latest run. A
            # worker taken for dead (a pause longer than its lease) whose job was started again
            # elsewhere rolls its batch back here instead of writing those rows a second time.
            if not run.update(**_report_fields(report), updated_at=timezone.now()):
                raise RunSuperseded

        def between_batches(report: ImportReport) -> None:
            raise_if_stopping()
            if jobs.filter(cancel_requested=True).exists():
                raise ImportCancelled

        with _open_text(job) as text, merchant_scope(job.merchant):
            report = customer_import_csv(
                merchant=job.merchant,
                file=text,
                actor=_actor(job),
                progress=between_batches,
                resume=_saved_report(job),
                checkpoint=checkpoint,
            )
    except WorkerStopping:
        raise  # the worker queues the job again; the next run resumes at the checkpoint
    except RunSuperseded:
        logger.warning("Customer import %s: a newer run took over; this run stops without writing.", import_id)
        return
    except ImportCancelled:
        done = jobs.values_list("rows_read", flat=True).get()
        _finish(run, job, CustomerImport.Status.CANCELLED, _cancelled_note(done))
        return
    except Exception:
        logger.exception("Customer import %s failed", import_id)
        _finish(
            run,
            job,
            CustomerImport.Status.FAILED,
            "An unexpected error stopped the import. Rows saved before it are kept; "
            "check the customer list before importing the file again.",
        )
        return
    if report.fatal:
        _finish(run, job, CustomerImport.Status.FAILED, _fatal_note(report), **_report_fields(report))
    else:
        _finish(run, job, CustomerImport.Status.DONE, "", **_report_fields(report))


def _cancelled_note(rows_done: int) -> str:
    return (
        f"Cancelled after {rows_done:,} rows. The customers imported from those rows are kept; "
        "the rest of the file was not imported."
    )


def _fatal_note(report: ImportReport) -> str:
    fatal = report.fatal
    reasons = " ".join(error["message"] for error in fatal.errors)
    where = f"Line {fatal.line}: {reasons}"
    if fatal.line == 1 or not (report.created or report.updated):
        return f"The file could not be imported. {where} Nothing was imported."
    return (
        f"The file could not be read to its end. {where} The {report.created + report.updated:,} rows before "
        "it were imported and are kept; fix the file and import only the rest."
    )


def _finish(jobs, job: CustomerImport, status: str, note: str, **fields) -> None:
    now = timezone.now()
    if jobs.update(status=status, failure=note, finished_at=now, updated_at=now, **fields):
        _remove_file(job)


def _remove_file(job: CustomerImport) -> None:
    """The uploaded file holds personal data: it goes once the import is over, whatever the outcome."""
    if job.file.name:
        default_storage.delete(job.file.name)
