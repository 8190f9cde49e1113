"""Bulk import of customers from CSV, through the same rules as every other door.

The first line is the header: `firstname,lastname,email,company,phone,address_line1,address_line2,
address_city,address_region,address_postal_code,address_country,reference` in any order (any
subset), plus one column per custom field written `NAME` or `NAME:TYPE` (type `string` when left out).
The address_* columns fill the API's `address` object (address_city is `address.city`).
An empty custom field cell means the
customer has no such field. Every row becomes the API's JSON payload and goes
through `clean_customer_payload`; good rows are written in batches (customers,
custom fields, the `customer.created` outbox event with its deliveries, and an
audit entry each: the rows `customer_create` writes), bad rows are reported
with their line in the file and every reason, and never stop the good ones.

A `customer_id` column (an export has one) makes a row with an id an update of that customer of
this merchant, through `customer_update` (the file's columns are set, an empty cell clears; an
empty custom field cell removes that field); a row with an empty `customer_id` is a new customer,
and an id that is not one of this merchant's customers is a refused row. Likewise a row without a
`customer_id` whose `reference` is one of this merchant's customers' updates that customer, so importing
one file twice creates nothing twice (a reference that an earlier row of the same file holds is a
refused row). `created_at` and `updated_at` columns (an export has them) are read-only and ignored.

Each batch commits on its own: an import cut short keeps the batches that committed. With a
`checkpoint` (the portal's resumable job, customers/import_jobs.py) each batch is written in this
thread, in one transaction with the checkpoint, so the import can resume after it exactly.
"""

import collections
import csv
import dataclasses
import difflib
import re
import uuid
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import connection, transaction
from django.utils import timezone

from audit.models import AuditEntry
from audit.services import Actor
from core.ids import parse_uuid
from customers.contact import ADDRESS_COLUMNS
from customers.error_paths import custom_field_error_index
from customers.exceptions import ReferenceInUse
from customers.models import Customer, CustomField
from customers.services import (
    RECORD_FIELDS,
    NewCustomerRows,
    customer_update,
    new_customer_rows,
    new_customers_write_many,
)
from customers.validation import CUSTOM_FIELD_NAME_RE, CUSTOM_FIELD_TYPES, CustomerData, clean_customer_payload
from events.models import CustomerEvent, EventDelivery
from merchants.models import Merchant

# firstname, lastname, email, company, phone, address_line1...address_postal_code, address_country, reference
STANDARD_COLUMNS = RECORD_FIELDS
REFERENCE_COLUMN = "reference"
# address_city -> city: the part of the API's `address` object a column fills.
_ADDRESS_PART_OF_COLUMN = {column: part for part, column in ADDRESS_COLUMNS.items()}
ID_COLUMN = "customer_id"
# Written by an export, never taken from a file.
READ_ONLY_COLUMNS = ("created_at", "updated_at")
# A spreadsheet runs a cell that starts with one of these as a formula (OWASP: CSV injection).
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
BATCH_SIZE = 5000
# Batches written at once on PostgreSQL, each by its own thread on its own connection (see _Writer).
WRITERS = 2
# A file of a million bad rows must not hold a million reports in memory;
# `ImportReport.failed` still counts every bad row.
MAX_REPORTED_ERRORS = 10_000
# Imports at least this large refresh the planner's statistics when they finish (PostgreSQL).
ANALYZE_AFTER = 10_000


@dataclasses.dataclass
class ImportRowError:
    """A bad line of the file: its physical line number (the header is line 1) and why."""

    line: int
    errors: list[dict[str, Any]]  # {field, code, message}; field is a column header or None


@dataclasses.dataclass
class ImportReport:
    """What an import did. `errors` holds the first MAX_REPORTED_ERRORS bad lines.

    `fatal` is set when the file itself is unusable (not UTF-8, not CSV, a bad header): the
    import failed there, at that line; rows before it that were imported stay imported.
    `rows_read` counts the data rows done (imported, updated or refused).
    """

    created: int = 0
    updated: int = 0
    failed: int = 0
    errors: list[ImportRowError] = dataclasses.field(default_factory=list)
    fatal: ImportRowError | None = None
    rows_read: int = 0

    def add_error(self, line: int, errors: list[dict[str, Any]]) -> None:
        self.failed += 1
        if len(self.errors) < MAX_REPORTED_ERRORS:
            self.errors.append(ImportRowError(line=line, errors=errors))


@dataclasses.dataclass(frozen=True)
class _Column:
    header: str  # as written in the file
    name: str  # standard field name or custom field name
    type: str | None  # custom field type; None for a standard column


def _error(field: str | None, code: str, message: str) -> dict[str, Any]:
    return {"field": field, "code": code, "message": message}


def _standard_suggestion(name: str) -> str | None:
    squashed = re.sub(r"[\s_.-]", "", name.lower())
    for column in STANDARD_COLUMNS:
        if squashed == column.replace("_", ""):
            return column
    close = difflib.get_close_matches(name.lower(), STANDARD_COLUMNS, n=1, cutoff=0.8)
    return close[0] if close else None


def _parse_header(cells: list[str]) -> tuple[list[_Column], list[dict[str, Any]]]:
    columns: list[_Column] = []
    errors: list[dict[str, Any]] = []
    seen: set[str] = set()
    known = ", ".join(STANDARD_COLUMNS)
    for position, raw in enumerate(cells, start=1):
        header = raw.strip()
        if position == 1:
            header = header.lstrip("\ufeff")
        header = cell_value(header)
        if not header:
            errors.append(_error(f"column {position}", "blank_header", f"Column {position} has no header."))
            continue
        name, has_type, type_ = header.partition(":")
        name, type_ = name.strip(), type_.strip() or "string"
        if not has_type and name.lower() in (*STANDARD_COLUMNS, ID_COLUMN, *READ_ONLY_COLUMNS):
            column = _Column(header=header, name=name.lower(), type=None)
        elif not CUSTOM_FIELD_NAME_RE.match(name):
            suggestion = _standard_suggestion(name)
            hint = f" Did you mean '{suggestion}'?" if suggestion else ""
            errors.append(
                _error(
                    header,
                    "unknown_column",
                    f"'{header}' is neither a standard column ({known}) nor a custom field name "
                    f"(1-64 letters, digits, '_', '-' or '.', optionally followed by ':TYPE').{hint}",
                )
            )
            continue
        elif not has_type and (suggestion := _standard_suggestion(name)):
            errors.append(
                _error(
                    header,
                    "unknown_column",
                    f"Unknown column '{header}'. Did you mean '{suggestion}'? "
                    f"To import it as a custom field, write '{name}:string'.",
                )
            )
            continue
        elif type_ not in CUSTOM_FIELD_TYPES:
            errors.append(
                _error(
                    header,
                    "invalid_type",
                    f"Unknown custom field type '{type_}' in '{header}'. Use one of: {', '.join(CUSTOM_FIELD_TYPES)}.",
                )
            )
            continue
        else:
            column = _Column(header=header, name=name, type=type_)
        key = column.name if column.type is None else f"custom:{column.name}"
        if key in seen:
            errors.append(_error(header, "duplicate_column", f"Column '{header}' appears more than once."))
            continue
        seen.add(key)
        columns.append(column)
    return columns, errors


def spreadsheet_cell(value: str) -> str:
    """`value` as a CSV cell no spreadsheet runs as a formula: a leading `'` before a formula trigger.

    A value that itself starts with `'` gets one more, so that `cell_value` gives
    back exactly what was exported, whatever it was.
    """
    return "'" + value if value.startswith(FORMULA_TRIGGERS + ("'",)) else value


def cell_value(cell: str) -> str:
    """The value an exported cell (`spreadsheet_cell`) stands for; a hand-written `'Aisha` stays as it is."""
    return cell[1:] if cell.startswith("'") and cell[1:].startswith(FORMULA_TRIGGERS + ("'",)) else cell


def _payload(columns: list[_Column], cells: list[str], *, update: bool = False) -> tuple[dict[str, Any], list[_Column]]:
    """The API-shaped payload of a row, and the columns of its custom fields in payload order.

    For an update (`update`), an empty custom field cell removes that field (`"value": null`).
    """
    payload: dict[str, Any] = {}
    custom_fields, custom_columns = [], []
    for column, cell in zip(columns, map(cell_value, cells), strict=True):
        if column.name in (ID_COLUMN, *READ_ONLY_COLUMNS) and column.type is None:
            continue
        if column.type is None and column.name in _ADDRESS_PART_OF_COLUMN:
            address = payload.setdefault("address", {})
            address[_ADDRESS_PART_OF_COLUMN[column.name]] = cell if cell != "" or not update else None
        elif column.type is None:
            payload[column.name] = cell if cell != "" or not update else None
        elif cell != "":
            custom_fields.append({"name": column.name, "type": column.type, "value": cell})
            custom_columns.append(column)
        elif update:
            custom_fields.append({"name": column.name, "value": None})
            custom_columns.append(column)
    if custom_fields:
        payload["options"] = {"custom_fields": custom_fields}
    return payload, custom_columns


def _row_errors(error: ValidationError, custom_columns: list[_Column]) -> list[dict[str, Any]]:
    """The validation errors with API field paths turned into the file's column headers."""
    result = []
    for path, errors in error.error_dict.items():
        field = None if path == NON_FIELD_ERRORS else path
        if field and field.startswith("address.") and field[8:] in ADDRESS_COLUMNS:
            field = ADDRESS_COLUMNS[field[8:]]
        position = custom_field_error_index(path)
        if position and position[0] < len(custom_columns):
            field = custom_columns[position[0]].header
        for e in errors:
            message = e.message % e.params if e.params else e.message
            result.append(_error(field, e.code or "invalid", str(message)))
    return result


def _rows(reader) -> Iterator[tuple[int, list[str]]]:
    """(first physical line, cells) of every non-blank row."""
    line = reader.line_num
    for cells in reader:
        start, line = line + 1, reader.line_num
        if cells:
            yield start, cells


def _prepare_batch(*, merchant: Merchant, actor: Actor, batch: list[CustomerData]) -> NewCustomerRows:
    """The rows `customer_create` writes, for each customer of `batch`.

    Event ids are taken here, in the reading thread, so that they follow the file
    whichever of two writers commits first (PostgreSQL).
    """
    rows = new_customer_rows(merchant=merchant, batch=batch, actor=actor, now=timezone.now())
    return dataclasses.replace(rows, events=rows.events.with_reserved_ids())


class _Writer:
    """Writes batches, on PostgreSQL in WRITERS threads while the next batch is validated.

    The database does its share of the work (COPY, indexes, WAL, foreign-key
    checks) in its own processes, so it runs beside the validation of the next
    batch in Python; with two batches in flight, on two connections, the
    database can use two cores. Measured on the 2-core benchmark machine with
    PostgreSQL on it: 14,300-14,600 rows/s with one writer, 17,200-18,400 with
    two, no better with three (docs/SCALING.md). Each writer has its own
    connection and commits each batch itself, so threads are used only when the
    caller holds no transaction of its own (an import inside one stays inside
    it, in this thread).
    """

    def __init__(self, *, threads: bool = True):
        threaded = threads and connection.vendor == "postgresql" and not connection.in_atomic_block
        # One executor (one thread, one connection) per writer, used in turn.
        self.executors = (
            [ThreadPoolExecutor(max_workers=1, thread_name_prefix="import") for _ in range(WRITERS)] if threaded else []
        )
        self.pending: collections.deque[Future] = collections.deque()
        self.written = 0

    def write(self, rows: NewCustomerRows) -> None:
        if not self.executors:
            new_customers_write_many(rows)
            return
        if len(self.pending) >= len(self.executors):
            self.pending.popleft().result()  # raises that batch's error
        executor = self.executors[self.written % len(self.executors)]
        self.written += 1
        self.pending.append(executor.submit(new_customers_write_many, rows))

    def wait(self) -> None:
        while self.pending:
            self.pending.popleft().result()

    def close(self) -> None:
        try:
            self.wait()
        finally:
            for executor in self.executors:
                # Runs in the writer's thread, so it closes that thread's own connection.
                executor.submit(lambda: connection.close()).result()
                executor.shutdown()


def customer_import_csv(
    *,
    merchant: Merchant,
    file: Iterable[str],
    actor: Actor,
    progress: Callable[[ImportReport], None] | None = None,
    resume: ImportReport | None = None,
    checkpoint: Callable[[ImportReport], None] | None = None,
) -> ImportReport:
    """Import customers of `merchant` from CSV text; see the module docstring for the format.

    `file` is text lines: a file opened with `newline=""` (quoted cells may hold line breaks), or
    `utf8_lines(binary file)`, which reports a bad byte on its own line. `progress`,
    when given, is called with the report so far after every batch (BATCH_SIZE data rows) and at
    the end; it may raise to stop the import between two batches (the batches before stay
    committed). A file that cannot be read (bad encoding, broken quoting, a bad
    header) sets `fatal` with the line where reading stopped; the rows before it are kept.

    Resumable imports: `checkpoint(report)` is called inside each batch's transaction, after its
    rows are written, to record the report so far; `resume` is that recorded report, and the
    import then skips the `resume.rows_read` data rows it already did and goes on from there.
    """
    report = dataclasses.replace(resume, errors=list(resume.errors)) if resume else ImportReport()
    # strict: a quote that opens a cell and is never closed properly is an error at its row,
    # not a cell that silently swallows the rest of the file.
    reader = csv.reader(file, strict=True)
    try:
        header = next(reader, None)
    except (csv.Error, UnicodeDecodeError) as exc:
        report.fatal = ImportRowError(line=1, errors=[_unreadable(exc)])
        return report
    if not header:
        message = f"The file is empty: its first line must be a header such as {','.join(STANDARD_COLUMNS)}."
        report.fatal = ImportRowError(line=1, errors=[_error(None, "empty_file", message)])
        return report
    columns, header_errors = _parse_header(header)
    if header_errors:
        report.fatal = ImportRowError(line=1, errors=_semicolons(header) or header_errors)
        return report

    writer = _Writer(threads=checkpoint is None)
    try:
        _import_rows(
            reader,
            columns,
            merchant=merchant,
            actor=actor,
            writer=writer,
            report=report,
            progress=progress,
            checkpoint=checkpoint,
        )
    finally:
        writer.close()
    report.errors.sort(key=lambda row: row.line)
    if report.created >= ANALYZE_AFTER and connection.vendor == "postgresql":
        _analyze(report.created)
    return report


def utf8_lines(binary: Iterable[bytes]) -> Iterator[str]:
    """The lines of a binary file decoded one at a time, so that a bad byte is reported on its own line.

    (A text wrapper decodes thousands of lines at once: its error would name the line being parsed.)
    A UTF-8 byte order mark at the start is dropped.
    """
    encoding = "utf-8-sig"
    for line in binary:
        yield line.decode(encoding)
        encoding = "utf-8"


def _semicolons(header: list[str]) -> list[dict[str, Any]]:
    """The one error to show for a header written with semicolons (a spreadsheet's "CSV" in many locales)."""
    if len(header) == 1 and header[0].count(";") >= 1:
        return [
            _error(
                None,
                "semicolon_separated",
                "The values are separated by semicolons (;), not commas. Save the file as CSV with commas "
                '(in a spreadsheet: "CSV UTF-8 (comma delimited)") and upload it again.',
            )
        ]
    return []


def _analyze(added: int) -> None:
    """Refresh the planner's statistics of the tables the import grew by a tenth or more.

    Until autovacuum gets to a table that a bulk load made ten times larger,
    PostgreSQL plans with the old row counts, e.g. a sequential scan of every
    custom field to prefetch the fields of one page of customers. A table that
    grew less keeps its statistics (autovacuum's own rule), sparing the seconds
    an ANALYZE of a large table takes.
    """
    tables = [m._meta.db_table for m in (Customer, CustomField, CustomerEvent, EventDelivery, AuditEntry)]
    with connection.cursor() as cursor:
        cursor.execute("SELECT relname, reltuples FROM pg_class WHERE relname = ANY(%s)", [tables])
        estimates = dict(cursor.fetchall())
        for table in tables:
            # reltuples is -1 for a table never analyzed, and counted before this import's rows.
            if estimates.get(table, -1) < 10 * added:
                cursor.execute(f"ANALYZE {connection.ops.quote_name(table)}")


@dataclasses.dataclass
class _Update:
    line: int
    customer_id: uuid.UUID
    payload: dict[str, Any]
    custom_columns: list[_Column]


def _import_rows(
    reader, columns, *, merchant, actor, writer: _Writer, report: ImportReport, progress, checkpoint
) -> None:
    creates: list[_NewRow] = []
    updates: list[_Update] = []
    reference_lines: dict[str, int] = {}  # reference -> the line of this import that holds it
    reference_position = next((i for i, c in enumerate(columns) if c.name == REFERENCE_COLUMN and c.type is None), None)
    has_id = any(column.name == ID_COLUMN and column.type is None for column in columns)
    id_position = next((i for i, c in enumerate(columns) if c.name == ID_COLUMN and c.type is None), None)
    skip = report.rows_read  # rows a previous run did (resume)
    read = 0
    rows = _rows(reader)

    def flush() -> None:
        new, by_reference = _creates_or_updates(creates, merchant=merchant, report=report)
        batch = _Batch(creates=new, updates=[*updates, *by_reference])
        creates.clear()
        updates.clear()
        _write_batch(
            batch, merchant=merchant, actor=actor, writer=writer, report=report, read=read, checkpoint=checkpoint
        )
        if progress:
            progress(report)

    while True:
        row_start = reader.line_num + 1
        try:
            item = next(rows, None)
        except (csv.Error, UnicodeDecodeError) as exc:
            # A broken row is reported where it starts; a line that does not decode, where it is.
            where = reader.line_num + 1 if isinstance(exc, UnicodeDecodeError) else row_start
            report.fatal = ImportRowError(line=where, errors=[_unreadable(exc)])
            item = None
        if item is None:
            break
        line, cells = item
        read += 1
        if read <= skip:
            continue
        if len(cells) != len(columns):
            report.add_error(
                line,
                [
                    _error(
                        None,
                        "wrong_cell_count",
                        f"The row has {len(cells)} cells but the header has {len(columns)} columns.",
                    )
                ],
            )
        elif has_id and (raw_id := cell_value(cells[id_position]).strip()):
            customer_id = parse_uuid(raw_id)
            if customer_id is None:
                report.add_error(line, [_unknown_customer(raw_id)])
            else:
                payload, custom_columns = _payload(columns, cells, update=True)
                updates.append(_Update(line, customer_id, payload, custom_columns))
        else:
            reference = cell_value(cells[reference_position]).strip() if reference_position is not None else ""
            if reference and reference in reference_lines:
                report.add_error(line, [_reference_again(reference, reference_lines[reference])])
            else:
                if reference:
                    reference_lines[reference] = line
                creates.append(_NewRow(line, columns, cells, reference or None))
        if read % BATCH_SIZE == 0:
            flush()
    if read > report.rows_read or creates or updates:
        flush()
    writer.wait()


@dataclasses.dataclass(frozen=True)
class _NewRow:
    """A row without a customer_id: a new customer, or an update of the one holding its reference."""

    line: int
    columns: list[_Column]
    cells: list[str]
    reference: str | None


def _creates_or_updates(
    rows: list[_NewRow], *, merchant: Merchant, report: ImportReport
) -> tuple[list[CustomerData], list[_Update]]:
    """The batch's rows as validated new customers, and as updates where the reference is a customer's (one query)."""
    references = {row.reference for row in rows if row.reference}
    holders = (
        dict(Customer.objects.filter(merchant=merchant, reference__in=references).values_list("reference", "pk"))
        if references
        else {}
    )
    creates, updates = [], []
    for row in rows:
        holder = holders.get(row.reference)
        if holder is not None:
            payload, custom_columns = _payload(row.columns, row.cells, update=True)
            updates.append(_Update(row.line, holder, payload, custom_columns))
            continue
        payload, custom_columns = _payload(row.columns, row.cells)
        try:
            creates.append(clean_customer_payload(payload))
        except ValidationError as exc:
            report.add_error(row.line, _row_errors(exc, custom_columns))
    return creates, updates


def _reference_again(reference: str, line: int) -> dict[str, Any]:
    return _error(
        REFERENCE_COLUMN,
        "duplicate_reference",
        f"The reference '{reference[:64]}' is already on line {line} of this file; give each customer one row.",
    )


@dataclasses.dataclass
class _Batch:
    creates: list[CustomerData]
    updates: list[_Update]


def _write_batch(batch: _Batch, *, merchant, actor, writer: _Writer, report: ImportReport, read: int, checkpoint):
    """Write one batch: its new customers, its updates, and (resumable imports) the checkpoint, at once."""
    rows = _prepare_batch(merchant=merchant, actor=actor, batch=batch.creates) if batch.creates else None
    if checkpoint is None:
        if rows:
            writer.write(rows)
        report.created += len(batch.creates)
        _apply_updates(batch.updates, merchant=merchant, actor=actor, report=report)
        report.rows_read = read
        return
    with transaction.atomic():
        if rows:
            new_customers_write_many(rows)
        _apply_updates(batch.updates, merchant=merchant, actor=actor, report=report)
        report.created += len(batch.creates)
        report.rows_read = read
        checkpoint(report)


def _apply_updates(updates: list[_Update], *, merchant, actor, report: ImportReport) -> None:
    if not updates:
        return
    ids = {update.customer_id for update in updates}
    found = {customer.pk: customer for customer in Customer.objects.filter(merchant=merchant, pk__in=ids)}
    for update in updates:
        customer = found.get(update.customer_id)
        if customer is None:
            report.add_error(update.line, [_unknown_customer(str(update.customer_id))])
            continue
        try:
            customer_update(customer=customer, data=update.payload, actor=actor)
        except ValidationError as exc:
            report.add_error(update.line, _row_errors(exc, update.custom_columns))
        except ReferenceInUse as exc:
            report.add_error(update.line, [_error(REFERENCE_COLUMN, "reference_in_use", str(exc))])
        else:
            report.updated += 1


def _unknown_customer(raw_id: str) -> dict[str, Any]:
    return _error(
        ID_COLUMN,
        "unknown_customer",
        f"'{raw_id[:64]}' is not the customer_id of one of your customers. Leave customer_id empty to create "
        "a new customer; a customer_id updates that customer.",
    )


def _unreadable(exc: Exception) -> dict[str, Any]:
    if isinstance(exc, UnicodeDecodeError):
        return _error(None, "invalid_encoding", "The file is not valid UTF-8 text from here on; reading stopped.")
    return _error(
        None,
        "invalid_csv",
        f'This is not valid CSV from here on ({exc}): check the quotes (") of this row. Reading stopped here.',
    )
