"""Rows of hand-written SELECTs loaded into model instances exactly as the ORM loads them.

Building an ORM query costs several times the CPU of running it; on the three
reads that requests make most (the token of every API request, a customer with
its custom fields, the webhook endpoints of every change: merchants/sql.py,
customers/sql.py, events/sql.py, with their measurements) the SQL is written
once from model metadata and its rows turned into instances here, with the same
per-field conversions the ORM applies (SQLite's text UUIDs and 0/1 booleans,
JSON, time zones). Nothing else should need this.

The conversions are Django's own (`connection.ops.get_db_converters`,
`Expression.get_db_converters`, `Field.get_col`), which Django uses but does not
document for applications: `check_internals` (run at start-up by
core.apps.CoreConfig) fails loudly if an upgrade of the pinned Django removes or
reshapes them, and customers/tests/test_hand_written_sql.py compares every query with the
ORM's own result.
"""

import functools
import inspect
from collections.abc import Sequence
from typing import Any, TypeVar

import django
from django.db import DEFAULT_DB_ALIAS, connection, connections, models

M = TypeVar("M", bound=models.Model)


def _field(model: type[models.Model], attname: str) -> models.Field:
    """The concrete field with this attname (`merchant_id`) or name (`merchant`)."""
    for field in model._meta.concrete_fields:
        if attname in (field.attname, field.name):
            return field
    raise LookupError(f"{model.__name__} has no field {attname!r}")


def column_list(model: type[models.Model], attnames: Sequence[str], alias: str | None = None) -> str:
    """The quoted columns of these fields, for a SELECT list, optionally prefixed with a table alias."""
    quote = connection.ops.quote_name
    prefix = f"{alias}." if alias else ""
    return ", ".join(prefix + quote(_field(model, name).column) for name in attnames)


def concrete_attnames(model: type[models.Model]) -> tuple[str, ...]:
    return tuple(field.attname for field in model._meta.concrete_fields)


@functools.cache
def _loader(model: type[models.Model], attnames: tuple[str, ...], vendor: str):
    """(position of each column in the row, its expression, its converters, its attname), in model field order.

    Model.from_db takes values in the order of the model's fields, whatever order the SELECT had.
    """
    positions = {_field(model, name).attname: i for i, name in enumerate(attnames)}
    result = []
    for field in model._meta.concrete_fields:
        if field.attname in positions:
            column = field.get_col(model._meta.db_table)
            converters = connection.ops.get_db_converters(column) + column.get_db_converters(connection)
            result.append((positions[field.attname], column, converters, field.attname))
    return result


def model_from_row(model: type[M], attnames: Sequence[str], values: Sequence[Any]) -> M:
    """An instance of `model` as the ORM would load it from these column values (other fields deferred)."""
    db = connections[DEFAULT_DB_ALIAS]  # the object itself: each attribute of the proxy is a thread-local lookup
    names, converted = [], []
    for position, column, converters, attname in _loader(model, tuple(attnames), db.vendor):
        value = values[position]
        for converter in converters:
            value = converter(value, column, db)
        names.append(attname)
        converted.append(value)
    return model.from_db(db.alias, names, converted)


def check_internals() -> None:
    """Raise ImproperlyConfigured when a Django internal this module relies on is gone or has changed shape."""
    from django.core.exceptions import ImproperlyConfigured
    from django.db.backends.base.operations import BaseDatabaseOperations
    from django.db.models.expressions import Col

    expected = {
        (BaseDatabaseOperations, "get_db_converters"): ["self", "expression"],
        (Col, "get_db_converters"): ["self", "connection"],
        (models.Field, "get_col"): ["self", "alias", "output_field"],
    }
    for (owner, name), parameters in expected.items():
        method = getattr(owner, name, None)
        if method is None or list(inspect.signature(method).parameters) != parameters:
            raise ImproperlyConfigured(
                f"core/sql.py relies on {owner.__qualname__}.{name}({', '.join(parameters[1:])}), which this "
                f"Django {django.get_version()} no longer has in that shape: check core/sql.py against it, "
                "then update this check (requirements.txt pins the version it was written for)."
            )


def fetch_all(statement: str, params: Sequence[Any]) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(statement, params)
        return cursor.fetchall()
