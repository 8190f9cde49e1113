"""Searching the whole database for a piece of personal data (erasure tests)."""

from django.db import connection

# Schema bookkeeping, never anyone's data (and a migration named "...ordering" holds "erin").
NOT_DATA = {"django_migrations"}


def columns_holding(text: str) -> list[str]:
    """Every `table.column` anywhere in the database whose value contains `text`."""
    quote = connection.ops.quote_name
    found = []
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names(cursor):
            if table in NOT_DATA:
                continue
            for column in connection.introspection.get_table_description(cursor, table):
                cursor.execute(
                    f"SELECT COUNT(*) FROM {quote(table)} WHERE CAST({quote(column.name)} AS TEXT) LIKE %s",  # noqa: S608
                    [f"%{text}%"],
                )
                if cursor.fetchone()[0]:
                    found.append(f"{table}.{column.name}")
    return found
