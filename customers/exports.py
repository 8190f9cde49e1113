"""CSV export of customers in the importer's format (customers/imports.py), so an export re-imports.

Columns: `customer_id`, the standard ones (`firstname,lastname,email,company,phone,address_line1,address_line2,
address_city,address_region,address_postal_code,address_country,reference`),
`created_at` and `updated_at` (ISO 8601, UTC), then one `NAME:TYPE` column per custom field name
found among the exported customers, sorted by name. Imported back, a row updates the customer
of its `customer_id` instead of creating another (created_at and updated_at are ignored).
Every cell is neutralised against spreadsheet formulas (customers.imports.spreadsheet_cell).
An empty cell means the customer has no such field. The importer allows one column per custom
field name: when customers use one name with different types, its column is typed `string`, which every value
satisfies.
"""

import csv
import datetime
import io
from collections.abc import Iterator

from customers.imports import ID_COLUMN, READ_ONLY_COLUMNS, STANDARD_COLUMNS, spreadsheet_cell
from customers.models import CustomField
from customers.selectors import CustomerFilters, customer_queryset
from merchants.models import Merchant

CHUNK_SIZE = 2000


def _custom_field_columns(customers) -> list[tuple[str, str]]:
    """(name, type) of each custom field column, in header order."""
    pairs = (
        CustomField.objects.filter(customer__in=customers.order_by().values("pk"))
        .values_list("name", "type")
        .distinct()
    )
    types: dict[str, set[str]] = {}
    for name, type_ in pairs:
        types.setdefault(name, set()).add(type_)
    return [
        (name, next(iter(kinds)) if len(kinds) == 1 else CustomField.Type.STRING)
        for name, kinds in sorted(types.items())
    ]


def customer_export_csv(
    *, merchant: Merchant, filters: CustomerFilters | None = None, oldest_first: bool = False, sort: str | None = None
) -> Iterator[str]:
    """The merchant's customers matching `filters` as CSV text, yielded a line at a time.

    Rows follow the list's order (`sort`, else newest first unless `oldest_first`) and are read
    in chunks, so a million customers stream without being held in memory.
    """
    customers = customer_queryset(merchant=merchant, filters=filters, oldest_first=oldest_first, sort=sort)
    custom_columns = _custom_field_columns(customers)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")

    def line(cells: list[str]) -> str:
        buffer.seek(0)
        buffer.truncate()
        writer.writerow([spreadsheet_cell(cell) for cell in cells])
        return buffer.getvalue()

    yield line(
        [ID_COLUMN, *STANDARD_COLUMNS, *READ_ONLY_COLUMNS, *(f"{name}:{type_}" for name, type_ in custom_columns)]
    )
    # Plain tuples, not model instances: the ORM's per-object cost would dominate a large export.
    rows = customers.values_list("customer_id", *STANDARD_COLUMNS, *READ_ONLY_COLUMNS).iterator(chunk_size=CHUNK_SIZE)
    for chunk in _chunks(rows, CHUNK_SIZE):
        values: dict = {}
        if custom_columns:
            found = CustomField.objects.filter(customer_id__in=[row[0] for row in chunk])
            for customer_id, name, value in found.values_list("customer_id", "name", "value"):
                values.setdefault(customer_id, {})[name] = value
        for customer_id, *standard, created_at, updated_at in chunk:
            own = values.get(customer_id, {})
            yield line(
                [
                    str(customer_id),
                    *(cell or "" for cell in standard),
                    _timestamp(created_at),
                    _timestamp(updated_at),
                    *(own.get(name, "") for name, _type in custom_columns),
                ]
            )


def _timestamp(value: datetime.datetime) -> str:
    return value.astimezone(datetime.UTC).isoformat().replace("+00:00", "Z")


def _chunks(iterable: Iterator, size: int) -> Iterator[list]:
    chunk = []
    for item in iterable:
        chunk.append(item)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk
