"""Fast inserts: COPY for the bulk import, and one built-once statement for the rows of an API change.

Django's bulk_create spends most of its time turning every value into SQL
parameters in Python; COPY through psycopg 3 streams rows with its C adapters
(measured in docs/SCALING.md). For the few rows every API change writes (the
customer, its custom fields, events, deliveries, audit entries) `insert_all`
builds its statement once per tables, fields and row counts, where the ORM
builds it again each time at several times the cost of running it (and Django
5.2's bulk_create adapts every column as an array); values still go through
each field's own conversion (`get_db_prep_save`), as the ORM's do. Rows are inserted exactly as given: the caller
supplies every value a reader will compare (ids, timestamps), and any other
column gets the model field's default, so a column added to a model later with
a default keeps working here.
"""

import contextlib
import dataclasses
import functools
import re
from collections.abc import Sequence
from typing import Any

from django.db import DEFAULT_DB_ALIAS, connection, connections, models, transaction
from psycopg import sql


def _fields(
    model: type[models.Model], names: Sequence[str]
) -> tuple[list[models.Field], list[tuple[models.Field, Any]]]:
    """The named fields, and (field, default) for every other concrete column except an auto primary key."""
    given = [model._meta.get_field(name) for name in names]
    rest = []
    for field in model._meta.concrete_fields:
        if field in given or (field.primary_key and isinstance(field, models.AutoField)):
            continue
        if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False) or field.unique:
            raise ValueError(f"{model.__name__}.{field.name} needs a value per row: pass it explicitly.")
        rest.append((field, field.get_default()))
    return given, rest


def reserve_ids(model: type[models.Model], count: int) -> list[int] | None:
    """`count` fresh auto-increment ids, increasing, on PostgreSQL; None elsewhere."""
    if connection.vendor != "postgresql":
        return None
    if count == 0:
        return []
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s) ORDER BY 1",
            [model._meta.db_table, model._meta.pk.column, count],
        )
        return [row[0] for row in cursor.fetchall()]


def insert_rows(model: type[models.Model], names: Sequence[str], rows: Sequence[Sequence[Any]]) -> list[int] | None:
    """Insert `rows` (values in the order of `names`) into `model`'s table.

    On PostgreSQL this is one COPY and returns None. Elsewhere each row is one
    INSERT (this path serves SQLite tests and small development imports) and the
    new auto-increment ids are returned when the primary key was not given.
    """
    if not rows:
        return []
    given, rest = _fields(model, names)
    fields = given + [field for field, _ in rest]
    table = model._meta.db_table
    columns = [field.column for field in fields]
    if connection.vendor == "postgresql":
        # Binary COPY: uuids, timestamps and integers go over as their bytes, which neither
        # side has to format or parse as text.
        types = [re.sub(r"\(.*\)", "", field.db_type(connection)) for field in fields]
        constants = tuple(value for _, value in rest)
        statement = sql.SQL("COPY {} ({}) FROM STDIN (FORMAT BINARY)").format(
            sql.Identifier(table), sql.SQL(", ").join(map(sql.Identifier, columns))
        )
        with connection.cursor() as cursor, cursor.cursor.copy(statement) as copy:
            copy.set_types(types)
            for row in rows:
                copy.write_row((*row, *constants))
        return None
    quote = connection.ops.quote_name
    # Identifiers come from model metadata, quoted by the backend; values are parameters.
    statement = "INSERT INTO {} ({}) VALUES ({})".format(  # noqa: S608
        quote(table), ", ".join(map(quote, columns)), ", ".join(["%s"] * len(columns))
    )
    constants = tuple(value for _, value in rest)
    ids = []
    with connection.cursor() as cursor:
        for row in rows:
            values = [
                field.get_db_prep_save(value, connection)
                for field, value in zip(fields, (*row, *constants), strict=True)
            ]
            cursor.execute(statement, values)
            ids.append(cursor.lastrowid)
    return None if model._meta.pk in given else ids


@dataclasses.dataclass(frozen=True)
class PrimaryKeyOf:
    """A value for `insert_all`: the primary key of the one row that an earlier `Insert` of the same call writes."""

    part: int


@dataclasses.dataclass(frozen=True)
class Insert:
    """Rows for one table: values in the order of `names`; other columns get their defaults."""

    model: type[models.Model]
    names: tuple[str, ...]
    rows: Sequence[Sequence[Any]]

    def shape(self) -> tuple:
        """What the statement's text depends on: table, columns, row count, and which values are references."""
        references = tuple(v.part if isinstance(v, PrimaryKeyOf) else None for v in self.rows[0])
        return (self.model, self.names, len(self.rows), references)


@functools.cache
def _insert_statement(shape: tuple, vendor: str, reference_sql: tuple[str, ...] = ()) -> tuple[str, list, list]:
    """INSERT … VALUES … RETURNING pk for an `Insert.shape()`; a reference's value is `reference_sql[part]`."""
    model, names, row_count, references = shape
    given, rest = _fields(model, names)
    fields = given + [field for field, _ in rest]
    quote = connection.ops.quote_name
    placeholders = ["%s" if part is None or not reference_sql else reference_sql[part] for part in references]
    placeholders += ["%s"] * len(rest)
    row = "({})".format(", ".join(placeholders))
    # Identifiers come from model metadata, quoted by the backend; values are parameters.
    statement = "INSERT INTO {} ({}) VALUES {} RETURNING {}".format(  # noqa: S608
        quote(model._meta.db_table),
        ", ".join(quote(field.column) for field in fields),
        ", ".join([row] * row_count),
        quote(model._meta.pk.column),
    )
    return statement, given, [field for field, _ in rest]


def _params(insert: Insert, given: list, rest: list, db, primary_keys: dict[int, Any] | None = None) -> list:
    """The statement's parameters; a reference is left out, or replaced by the key in `primary_keys`."""
    params = []
    for row in insert.rows:
        for field, value in zip(given, row, strict=True):
            if isinstance(value, PrimaryKeyOf):
                if primary_keys is None:
                    continue  # written as SQL in the statement
                value = primary_keys[value.part]
            params.append(field.get_db_prep_save(value, db))
        # Defaults are taken per row: a callable default (a list, a timestamp) must not be shared.
        params += [field.get_db_prep_save(field.get_default(), db) for field in rest]
    return params


def _run(statement: str, params: list) -> list[tuple]:
    with connections[DEFAULT_DB_ALIAS].cursor() as cursor:
        cursor.execute(statement, params)
        return cursor.fetchall()


@functools.cache
def _combined_statement(shapes: tuple[tuple | None, ...]) -> tuple[str, list[tuple[list, list] | None]]:
    """One statement for several inserts on PostgreSQL: each one a data-modifying WITH query.

    `shapes` holds None for an insert without rows. The result has one row
    (insert's index, primary key as text) per inserted row, insert by insert.
    """
    # Identifiers come from model metadata, quoted by the backend; values are parameters.
    quote = connection.ops.quote_name
    written = [(i, shape, quote(shape[0]._meta.pk.column)) for i, shape in enumerate(shapes) if shape is not None]
    references = tuple(
        f"(SELECT {quote(s[0]._meta.pk.column)} FROM part_{i})" if s else ""  # noqa: S608
        for i, s in enumerate(shapes)
    )
    queries, fields = [], [None] * len(shapes)
    for i, shape, _ in written:
        statement, given, rest = _insert_statement(shape, "postgresql", references)
        queries.append(f"part_{i} AS ({statement})")
        fields[i] = (given, rest)
    results = " UNION ALL ".join(f"SELECT {i}, {pk}::text FROM part_{i}" for i, _, pk in written)  # noqa: S608
    return f"WITH {', '.join(queries)} {results}", fields


def insert_all(inserts: Sequence[Insert]) -> list[list[Any]]:
    """Write several `Insert`s, all or none; returns each one's new primary keys in the order of its rows.

    Keys come back in row order through RETURNING, as bulk_create relies on too.
    On PostgreSQL this is one statement (one round trip, atomic by itself, so no
    transaction is needed around it): a change with its event, deliveries and
    audit entry costs one statement instead of five. Elsewhere the inserts run
    one after another in a transaction. A row may hold `PrimaryKeyOf(i)` for
    the key of the single row of `inserts[i]` (an event's deliveries).
    """
    db = connections[DEFAULT_DB_ALIAS]  # the object itself: each attribute of the proxy is a thread-local lookup
    keys: list[list[Any]] = [[] for _ in inserts]
    written = sum(1 for insert in inserts if insert.rows)
    if db.vendor == "postgresql" and written > 1:
        statement, fields = _combined_statement(tuple(i.shape() if i.rows else None for i in inserts))
        params = []
        for insert, insert_fields in zip(inserts, fields, strict=True):
            if insert_fields is not None:
                params += _params(insert, *insert_fields, db)
        for index, pk in _run(statement, params):
            keys[index].append(inserts[index].model._meta.pk.to_python(pk))
        return keys
    with transaction.atomic(using=db.alias) if written > 1 else contextlib.nullcontext():
        for index, insert in enumerate(inserts):
            if not insert.rows:
                continue
            statement, given, rest = _insert_statement(insert.shape(), db.vendor)
            primary_keys = {i: part_keys[0] for i, part_keys in enumerate(keys) if part_keys}
            rows = _run(statement, _params(insert, given, rest, db, primary_keys))
            keys[index] = [insert.model._meta.pk.to_python(pk) for (pk,) in rows]
    return keys
