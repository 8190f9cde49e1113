"""Hand-written SELECTs for the few reads every API request makes, loaded into model instances.

Building an ORM query (or a RawQuerySet) costs several times the CPU of running
it on PostgreSQL; on the paths every request takes (the token check, reading a
customer) we write the SQL once from model metadata and turn its rows into
instances here, with the same per-field conversions the ORM applies (e.g.
SQLite's text UUIDs and 0/1 booleans). Nothing else should need this.
"""

import functools
from collections.abc import Sequence
from typing import Any, TypeVar

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


def fetch_all(statement: str, params: Sequence[Any]) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(statement, params)
        return cursor.fetchall()
