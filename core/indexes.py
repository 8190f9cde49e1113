"""Indexes that exist on PostgreSQL only, declared on the model like any other."""

from django.contrib.postgres.indexes import GinIndex
from django.db.backends.ddl_references import Statement


class _NoStatement(Statement):
    """A schema statement that does nothing: SQLite runs an empty string as a no-op."""

    def __init__(self):
        super().__init__("")


class PostgreSQLGinIndex(GinIndex):
    """A GIN index on PostgreSQL, and no index at all on SQLite.

    SQLite has no GIN (nor trigrams), and a B-tree on the same column would only
    cost writes: its LIKE scans the merchant's rows whatever is there. Declaring
    the index on the model keeps migrations and `makemigrations` the same on both.
    """

    def create_sql(self, model, schema_editor, using="", **kwargs):
        if schema_editor.connection.vendor != "postgresql":
            return _NoStatement()
        return super().create_sql(model, schema_editor, using=using, **kwargs)

    def remove_sql(self, model, schema_editor, **kwargs):
        if schema_editor.connection.vendor != "postgresql":
            return _NoStatement()
        return super().remove_sql(model, schema_editor, **kwargs)
