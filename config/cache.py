"""The default cache: Django's database cache with an atomic `incr`, and its table.

The API's rate limiter counts requests with `incr`. Django's database cache
implements `incr` as a read followed by a write, so two server processes
counting at once can both read 7 and both write 8. Here the row is locked for
the read-modify-write (SELECT ... FOR UPDATE on PostgreSQL; on SQLite the
IMMEDIATE transaction already holds the write lock), so every request counts.
"""

import base64
import pickle

from django.core.cache.backends.db import DatabaseCache as DjangoDatabaseCache
from django.core.management import call_command
from django.db import connections, models, router, transaction
from django.utils.timezone import now as tz_now


class DatabaseCache(DjangoDatabaseCache):
    def incr(self, key, delta=1, version=None):
        key = self.make_and_validate_key(key, version=version)
        db = router.db_for_write(self.cache_model_class)
        connection = connections[db]
        quote_name = connection.ops.quote_name
        table, key_column, value_column = quote_name(self._table), quote_name("cache_key"), quote_name("value")
        lock = " FOR UPDATE" if connection.features.has_select_for_update else ""
        with transaction.atomic(using=db), connection.cursor() as cursor:
            cursor.execute(
                f"SELECT {value_column}, {quote_name('expires')} FROM {table} WHERE {key_column} = %s{lock}",  # noqa: S608 - names are quoted identifiers
                [key],
            )
            row = cursor.fetchone()
            if row is None or self._as_datetime(connection, row[1]) < tz_now():
                raise ValueError(f"Key '{key}' not found.")
            value = pickle.loads(base64.b64decode(connection.ops.process_clob(row[0]).encode()))  # noqa: S301 - our own rows
            new_value = value + delta
            encoded = base64.b64encode(pickle.dumps(new_value, self.pickle_protocol)).decode("latin1")
            cursor.execute(
                f"UPDATE {table} SET {value_column} = %s WHERE {key_column} = %s",  # noqa: S608 - names are quoted identifiers
                [encoded, key],
            )
        return new_value

    @staticmethod
    def _as_datetime(connection, value):
        # The database returns `expires` as a string on SQLite: convert it the way the ORM does.
        expression = models.Expression(output_field=models.DateTimeField())
        for converter in connection.ops.get_db_converters(expression) + expression.get_db_converters(connection):
            value = converter(value, expression, connection)
        return value


def create_cache_tables(*, using: str, **kwargs) -> None:
    """post_migrate receiver: `migrate` also creates the database cache's table (idempotent)."""
    call_command("createcachetable", database=using, verbosity=0)
