import gc
import getpass
import io
import time
import uuid

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, OutputWrapper

from audit.models import AuditEntry
from audit.services import CLI_IMPORT_PREFIX, Actor
from core.scoping import merchant_scope
from customers.import_jobs import describe_duration
from customers.imports import MAX_REPORTED_ERRORS, ImportReport, customer_import_csv, utf8_lines
from merchants.models import Merchant


class _Progress:
    """Progress on stderr: one updating line on a terminal, a plain line every few seconds otherwise."""

    def __init__(self, stream: OutputWrapper, raw: io.FileIO, total_bytes: int):
        self.stream, self.raw, self.total_bytes = stream, raw, total_bytes
        self.tty = stream.isatty()
        self.started = self.last = time.monotonic()
        self.shown = -1  # rows in the last line written

    def __call__(self, report: ImportReport) -> None:
        now = time.monotonic()
        if now - self.last < (0.2 if self.tty else 5.0):
            return
        self.last = now
        self._write(self.line(report, now), report.rows_read)

    def line(self, report: ImportReport, now: float) -> str:
        """The portal's figures: rows done, rows refused, rows/s and time left (from the share of the file read)."""
        fraction = min(self.raw.tell() / self.total_bytes, 1.0) if self.total_bytes else 1.0
        elapsed = max(now - self.started, 1e-9)
        rate = report.rows_read / elapsed
        left = elapsed * (1 - fraction) / fraction if fraction > 0 else None
        return (
            f"{report.rows_read:,} rows done ({100 * fraction:.0f}% of the file), {report.failed:,} refused, "
            f"{rate:,.0f} rows/s, {describe_duration(left)} left"
        )

    def _write(self, text: str, rows: int) -> None:
        self.shown = rows
        if self.tty:
            self.stream.write(f"\r\033[K{text}", style_func=str, ending="")
        else:
            self.stream.write(text, style_func=str)
        self.stream.flush()

    def finish(self, report: ImportReport) -> None:
        if report.rows_read != self.shown:
            self._write(self.line(report, time.monotonic()), report.rows_read)
        if self.tty:
            self.stream.write("", style_func=str)


class Command(BaseCommand):
    help = (
        "Import customers of one merchant from a CSV file through the same validation as the API. "
        "Header: firstname,lastname,email,company,phone,address_line1,address_line2,address_city,address_region,"
        "address_postal_code,address_country,reference (any subset, any order) plus one column per "
        "custom field, written NAME or NAME:TYPE. Good rows are imported, bad rows are listed with their line "
        "number and reasons; a row with a customer_id (an export's), or with a reference one of the merchant's "
        "customers has, updates that customer. The import runs here, "
        "in this process (the portal's uploads run in `manage.py worker`). Exit status: 0 when every row was "
        "imported, 1 when some rows (or the header, or the file) were bad; the good rows are imported even then, "
        "so do not run the same file again."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", help="Path to the CSV file (UTF-8, comma-separated, first line is the header)")
        parser.add_argument("--merchant", required=True, help="The merchant's id (UUID)")

    def handle(self, *args, file, merchant, **options):
        try:
            merchant_obj = Merchant.objects.get(pk=uuid.UUID(merchant))
        except (ValueError, Merchant.DoesNotExist, ValidationError):
            raise CommandError(f"No merchant with id '{merchant}'.") from None
        try:
            raw = io.FileIO(file, "r")
        except OSError as exc:
            raise CommandError(f"Cannot open {file}: {exc.strerror}.") from None
        try:
            user = getpass.getuser()
        except (KeyError, OSError):
            user = "unknown"
        actor = Actor(AuditEntry.Door.CLI, f"{CLI_IMPORT_PREFIX}{user}")

        with raw, io.BufferedReader(raw) as binary:
            text = utf8_lines(binary)
            progress = _Progress(self.stderr, raw, raw.seek(0, io.SEEK_END))
            raw.seek(0)
            # The import allocates millions of short-lived objects and no cycles worth
            # collecting early: rarer collections make it about a quarter faster.
            thresholds = gc.get_threshold()
            gc.set_threshold(100_000, 50, 50)
            try:
                with merchant_scope(merchant_obj):
                    report = customer_import_csv(merchant=merchant_obj, file=text, actor=actor, progress=progress)
            finally:
                gc.set_threshold(*thresholds)
            elapsed = time.monotonic() - progress.started
            progress.finish(report)
        self._print_report(report, merchant_obj, elapsed)
        if report.failed or report.errors or report.fatal:
            raise SystemExit(1)

    def _print_report(self, report: ImportReport, merchant: Merchant, elapsed: float) -> None:
        rate = report.rows_read / elapsed if elapsed > 0 else 0
        updated = f", updated {report.updated:,}" if report.updated else ""
        self.stdout.write(
            f"Imported {report.created:,} customers{updated} for merchant {merchant.name} ({merchant.pk}) "
            f"in {elapsed:.1f} s ({rate:,.0f} rows/s); {report.failed:,} bad rows."
        )
        if report.fatal:
            for error in report.fatal.errors:
                where = f"{error['field']}: " if error["field"] else ""
                self.stdout.write(
                    f"line {report.fatal.line}: {where}{error['message']} [{error['code']}] The import stopped there."
                )
        for row in report.errors:
            for error in row.errors:
                where = f"{error['field']}: " if error["field"] else ""
                self.stdout.write(f"line {row.line}: {where}{error['message']} [{error['code']}]")
        if report.failed > len(report.errors):
            self.stdout.write(
                f"... and {report.failed - len(report.errors):,} more bad rows (only the first "
                f"{MAX_REPORTED_ERRORS:,} are listed)."
            )
